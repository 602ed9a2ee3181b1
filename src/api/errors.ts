import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ZodError } from 'zod';
import { IngestError } from '../ingest/errors';
import type { IngestErrorCode } from '../ingest/errors';
import { ServiceError } from '../services/errors';
import { InvalidCursorError } from '../store/store-errors';
import { HttpError } from './http-error';
import { INVALID_UTF8 } from './json-body';

interface ErrorBody {
  status: number;
  code: string;
  message: string;
  details?: Record<string, unknown>;
  headers?: Record<string, string>;
}

export const SERVICE_STATUS: Record<ServiceError['code'], number> = {
  not_found: 404,
  conflict: 409,
  forbidden: 403,
  invalid: 400,
  unavailable: 503,
};

const INGEST_STATUS: Record<IngestErrorCode, number> = {
  unauthorized: 401,
  payload_too_large: 413,
  unsupported_media_type: 415,
  request_aborted: 400,
  invalid_json: 400,
  invalid_request: 400,
};

/** An alert receiver's refusal as HTTP; the PagerDuty receiver re-shapes the same statuses into its own bodies. */
export function ingestHttpError(err: IngestError): HttpError {
  // The alert receivers' own realm: their credentials are integrations', not API tokens.
  const headers: Record<string, string> = err.code === 'unauthorized' ? { 'WWW-Authenticate': 'Bearer realm="fireline-alerts"' } : {};
  return new HttpError(INGEST_STATUS[err.code], err.code, err.message, err.details, headers);
}

/** Names every bad field: `title: Too small…; severity: Invalid option…`. */
export function describeZodError(err: ZodError): { message: string; issues: { path: string; message: string }[] } {
  const issues = err.issues.map((i) => {
    // Unknown keys are reported on the object that holds them; name the keys instead.
    const keys = i.code === 'unrecognized_keys' ? i.keys : [];
    const at = i.path.map(String).join('.');
    const path = keys.length ? keys.map((k) => (at ? `${at}.${k}` : k)).join(', ') : at || '(request)';
    return { path, message: i.message };
  });
  return { message: issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues };
}

/** Body-parser errors carry `type` and `status`; they are the client's fault, never a 500. */
function fromBodyParser(err: { type?: string; status?: number; message?: string }): ErrorBody | undefined {
  switch (err.type) {
    case 'entity.too.large':
      return { status: 413, code: 'payload_too_large', message: 'the request body is larger than the limit' };
    case 'entity.parse.failed':
      return { status: 400, code: 'invalid_json', message: 'the request body is not valid JSON' };
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return { status: 415, code: 'unsupported_encoding', message: err.message ?? 'unsupported encoding' };
    case INVALID_UTF8:
      return { status: 400, code: 'invalid_encoding', message: 'the request body is not valid UTF-8' };
    case 'request.aborted':
      return { status: 400, code: 'request_aborted', message: 'the request was aborted' };
    default:
      if (typeof err.status === 'number' && err.status >= 400 && err.status < 500) {
        return { status: err.status, code: 'bad_request', message: err.message ?? 'bad request' };
      }
      return undefined;
  }
}

function classify(err: unknown): ErrorBody | undefined {
  if (err instanceof IngestError) return classify(ingestHttpError(err));
  if (err instanceof HttpError) {
    return { status: err.status, code: err.code, message: err.message, details: err.details, headers: err.headers };
  }
  if (err instanceof ZodError) {
    const { message, issues } = describeZodError(err);
    return { status: 400, code: 'invalid_request', message, details: { issues } };
  }
  if (err instanceof ServiceError) {
    const headers: Record<string, string> = err.code === 'unavailable' ? { 'Retry-After': '5' } : {};
    // Bad input reads the same whether zod or a use case found it.
    const code = err.code === 'invalid' ? 'invalid_request' : err.code;
    return { status: SERVICE_STATUS[err.code], code, message: err.message, details: err.details, headers };
  }
  if (err instanceof InvalidCursorError) return { status: 400, code: 'invalid_request', message: 'cursor: not a cursor this API gave out' };
  if (err && typeof err === 'object') return fromBodyParser(err as { type?: string; status?: number; message?: string });
  return undefined;
}

export const errorHandler: ErrorRequestHandler = (err, req, res, _next) => {
  const known = classify(err);
  if (!known) {
    req.log.error({ err }, 'unhandled error');
    res.status(500).json({ error: { code: 'internal', message: 'internal error', details: { requestId: req.id } } });
    return;
  }
  if (known.status >= 500) req.log.warn({ code: known.code }, known.message);
  for (const [k, v] of Object.entries(known.headers ?? {})) res.setHeader(k, v);
  res
    .status(known.status)
    .json({ error: { code: known.code, message: known.message, ...(known.details ? { details: known.details } : {}) } });
};

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new HttpError(404, 'not_found', `no route ${req.method} ${req.path}`));
};
