import express from 'express';
import type { RequestHandler } from 'express';

/** JSON bodies are small by design; bigger ones are refused before they are read whole. */
export const JSON_LIMIT = '512kb';

/**
 * Parses a JSON body. Mounted per route after authentication, so a request without a valid token never
 * makes the server read its body.
 */
export function jsonBody(): RequestHandler {
  return express.json({ limit: JSON_LIMIT, strict: true, type: ['application/json', 'application/*+json'] });
}
