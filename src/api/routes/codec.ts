import cors from 'cors';
import express, { Router } from 'express';
import type { RequestHandler } from 'express';
import { JSONToPayload, payloadToJSON } from '@temporalio/common/lib/proto-utils';
import { z } from 'zod';
import type { PayloadCodecService } from '../../services/payload-codec';
import type { TokenService } from '../../services/tokens';
import { requireAccess } from '../auth';
import type { SessionAuth } from '../auth';
import { HttpError } from '../http-error';

/** proto3 JSON bytes: standard or URL-safe base64, padding optional (what Temporal's JSON encoders accept). */
const Base64Schema = z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'expected base64');

/** `temporal.api.common.v1.Payloads` in proto3 JSON; fields this codec knows nothing of are dropped. */
const PayloadsBodySchema = z.object({
  payloads: z
    .array(
      z.object({
        metadata: z.record(z.string().max(256), Base64Schema).nullish(),
        data: Base64Schema.nullish(),
      }),
    )
    .max(10_000),
});

/** A Temporal payload may be 2 MB, and base64 adds a third: a history's biggest must fit. */
const CODEC_JSON_LIMIT = '4mb';

const CODEC_HEADERS = ['content-type', 'x-namespace', 'authorization', 'authorization-extras'];

type Operation = 'encode' | 'decode';

/** The protocol mounts at any depth (`/codec/decode`, `/codec/{namespace}/decode`): the last segment decides. */
function operationOf(path: string): Operation | undefined {
  const last = path
    .split('/')
    .filter((s) => s !== '')
    .at(-1);
  return last === 'encode' || last === 'decode' ? last : undefined;
}

/**
 * Temporal's codec-server protocol for the Web UI and `temporal --codec-endpoint`: `POST …/encode` and
 * `POST …/decode` with `{payloads:[…]}`, answered with as many payloads in the same order. Bad input and
 * payloads that do not open are 400s (the UI then shows them undecoded). Browser access only from the
 * configured Temporal UI origins.
 */
export function codecRoutes(deps: {
  tokens: TokenService;
  sessions: SessionAuth;
  codec: PayloadCodecService;
  /** Browser origins allowed by CORS (FIRELINE_TEMPORAL_UI_ORIGIN); none: no browser may call it. */
  uiOrigins?: readonly string[];
}): Router {
  const r = Router();
  if (deps.uiOrigins?.length) {
    // A list, not one string: the cors package then answers only a listed origin and omits the header otherwise.
    r.use(cors({ origin: [...deps.uiOrigins], credentials: true, methods: ['POST'], allowedHeaders: CODEC_HEADERS, maxAge: 600 }));
  }
  const access: Record<Operation, RequestHandler> = {
    encode: requireAccess(deps.tokens, 'payload.encode'),
    decode: requireAccess(deps.tokens, 'payload.decode'),
  };
  const operation: RequestHandler = (req, res, next) => {
    const op = operationOf(req.path);
    if (!op) return next('route');
    res.locals.codecOperation = op;
    return access[op](req, res, next);
  };

  r.post(
    '/{*path}',
    deps.sessions.readOnlyMiddleware,
    operation,
    express.json({ limit: CODEC_JSON_LIMIT, strict: true, type: ['application/json', 'application/*+json'] }),
    async (req, res) => {
      if (req.body === undefined) throw new HttpError(415, 'unsupported_media_type', 'send the body as application/json');
      const body = PayloadsBodySchema.parse(req.body);
      const payloads = body.payloads.map(({ metadata, data }, i) => {
        try {
          return JSONToPayload({ ...(metadata ? { metadata } : {}), ...(data ? { data } : {}) });
        } catch (err) {
          throw new HttpError(400, 'invalid_request', `payloads.${i}: not a payload (${(err as Error).message})`);
        }
      });
      const op = res.locals.codecOperation as Operation;
      const out = op === 'encode' ? await deps.codec.encode(payloads) : await deps.codec.decode(payloads);
      res.json({ payloads: out.map((p) => payloadToJSON(p)) });
    },
  );
  return r;
}
