import type { RequestHandler } from 'express';
import { roleAtLeast } from '../domain/roles';
import type { Actor, Role } from '../domain/roles';
import type { TokenService } from '../services/tokens';
import { HttpError } from './http-error';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

function unauthorized(message: string): HttpError {
  return new HttpError(401, 'unauthorized', message, undefined, { 'WWW-Authenticate': 'Bearer realm="fireline"' });
}

/** Authenticates the bearer token and checks the route's least role (viewer < responder < commander < admin). */
export function requireRole(tokens: TokenService, role: Role): RequestHandler {
  return async (req, _res, next) => {
    const header = req.get('authorization');
    if (!header) return next(unauthorized('a bearer token is required (Authorization: Bearer <token>)'));
    const match = BEARER.exec(header);
    if (!match) return next(unauthorized('the Authorization header must be "Bearer <token>"'));
    const record = await tokens.authenticate(match[1]!);
    if (!record) return next(unauthorized('the token is not valid'));
    req.auth = record;
    req.log = req.log.child({ tokenId: record.id });
    if (!roleAtLeast(record.role, role)) {
      return next(new HttpError(403, 'forbidden', `this needs the ${role} role; the token has ${record.role}`));
    }
    next();
  };
}

export function actorOf(req: { auth?: { id: string; name: string; role: Role } }): Actor {
  if (!req.auth) throw new HttpError(401, 'unauthorized', 'a bearer token is required');
  return { id: `token:${req.auth.id}`, name: req.auth.name, role: req.auth.role };
}
