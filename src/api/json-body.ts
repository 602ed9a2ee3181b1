import { isUtf8 } from 'node:buffer';
import express from 'express';
import type { RequestHandler } from 'express';

/** JSON bodies are small by design; bigger ones are refused before they are read whole. */
export const JSON_LIMIT = '512kb';

/** body-parser's error `type` for a body that is not UTF-8 (mapped to 400 in errors.ts). */
export const INVALID_UTF8 = 'encoding.invalid';

/**
 * Parses a JSON body. Mounted per route after authentication, so a request without a valid token never
 * makes the server read its body. Bytes that are not UTF-8 are refused: decoding would otherwise replace
 * them with U+FFFD and store text nobody sent.
 */
export function jsonBody(): RequestHandler {
  return express.json({
    limit: JSON_LIMIT,
    strict: true,
    type: ['application/json', 'application/*+json'],
    verify: (_req, _res, buf) => {
      if (!isUtf8(buf)) throw Object.assign(new Error('the request body is not valid UTF-8'), { status: 400, type: INVALID_UTF8 });
    },
  });
}
