import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { roleAtLeast } from '../domain/roles';
import type { Actor, Role } from '../domain/roles';
import type { TokenService } from '../services/tokens';
import type { SessionRecord, Store, TokenRecord } from '../store/store';
import { HttpError } from './http-error';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- how Express's Request type is extended
  namespace Express {
    interface Request {
      /** Set when the page's session cookie (not a bearer token) authenticated the request. */
      webSession?: SessionRecord;
    }
  }
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** The page's session id: httpOnly, so scripts (and anything injected into them) never see it. */
export const SESSION_COOKIE = 'fireline_session';
/** Readable by the page's script, which echoes it in CSRF_HEADER; another site can neither read it nor set the header. */
export const CSRF_COOKIE = 'fireline_csrf';
export const CSRF_HEADER = 'X-Fireline-CSRF';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function unauthorized(message: string): HttpError {
  return new HttpError(401, 'unauthorized', message, undefined, { 'WWW-Authenticate': 'Bearer realm="fireline"' });
}

export function readCookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Authenticates the bearer token and checks the route's least role (viewer < responder < commander < admin).
 * Without an Authorization header, a page session that `sessionAuth` accepted stands in for the token.
 */
export function requireRole(tokens: TokenService, role: Role): RequestHandler {
  return async (req, _res, next) => {
    const header = req.get('authorization');
    let record: TokenRecord | undefined;
    if (!header) {
      if (!req.webSession || !req.auth) {
        const message = readCookie(req, SESSION_COOKIE)
          ? 'the session has expired or was signed out; sign in again'
          : 'a bearer token is required (Authorization: Bearer <token>)';
        return next(unauthorized(message));
      }
      record = req.auth;
    } else {
      const match = BEARER.exec(header);
      if (!match) return next(unauthorized('the Authorization header must be "Bearer <token>"'));
      record = await tokens.authenticate(match[1]!);
      if (!record) return next(unauthorized('the token is not valid'));
      req.auth = record;
      req.log = req.log.child({ tokenId: record.id });
    }
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

export function hashSessionId(id: string): string {
  return createHash('sha256').update(id, 'utf8').digest('hex');
}

export interface SessionAuthOptions {
  store: Store;
  tokens: TokenService;
  /** Cookies get `Secure` when the public URL is https (or the request itself came over TLS). */
  publicUrl?: string;
  ttlMs?: number;
  now?: () => Date;
}

const DEFAULT_SESSION_TTL_MS = 12 * 3600_000;

/**
 * Sessions of the web page. Signing in trades a token for a random session id in an httpOnly, SameSite=Strict
 * cookie; only its sha256 is stored, with an expiry. The session acts as its token (same actor in the audit
 * log, same role, revoked with it). State-changing requests made with the cookie must also carry
 * X-Fireline-CSRF equal to the session's CSRF value, which the page reads from a second, script-readable
 * cookie: another site can make the browser send cookies (SameSite already stops that) but never that header.
 * Requests with an Authorization header never look at cookies, so API clients work as before.
 */
export function createSessionAuth(opts: SessionAuthOptions) {
  const now = opts.now ?? (() => new Date());
  const ttlMs = opts.ttlMs ?? DEFAULT_SESSION_TTL_MS;
  const httpsUrl = opts.publicUrl?.startsWith('https:') ?? false;

  function cookieOptions(req: Request, httpOnly: boolean, maxAgeMs?: number) {
    return { httpOnly, sameSite: 'strict' as const, secure: httpsUrl || req.secure, path: '/', ...(maxAgeMs === undefined ? {} : { maxAge: maxAgeMs }) };
  }

  /** Sets `req.auth` from a valid session cookie; refuses unsafe methods without the matching CSRF header. */
  const middleware: RequestHandler = async (req, _res, next) => {
    if (req.get('authorization')) return next();
    const id = readCookie(req, SESSION_COOKIE);
    if (!id || id.length > 200) return next();
    const found = await opts.store.findSession(hashSessionId(id), now().toISOString());
    if (!found) return next();
    if (!SAFE_METHODS.has(req.method)) {
      const given = req.get(CSRF_HEADER);
      if (!given || !sameSecret(given, found.session.csrf)) {
        return next(new HttpError(403, 'csrf_failed', `a request signed in by cookie must send the ${CSRF_HEADER} header (the value of the ${CSRF_COOKIE} cookie)`));
      }
    }
    req.auth = found.token;
    req.webSession = found.session;
    req.log = req.log.child({ tokenId: found.token.id, via: 'session' });
    next();
  };

  return {
    middleware,
    ttlMs,

    /** Opens a session for `token`; answers undefined when the token is not valid. */
    async signIn(req: Request, res: Response, token: string): Promise<{ token: TokenRecord; session: SessionRecord } | undefined> {
      const record = await opts.tokens.authenticate(token);
      if (!record) return undefined;
      const at = now();
      await opts.store.deleteExpiredSessions(at.toISOString());
      const id = randomBytes(32).toString('base64url');
      const session: SessionRecord = {
        idHash: hashSessionId(id),
        tokenId: record.id,
        csrf: randomBytes(24).toString('base64url'),
        createdAt: at.toISOString(),
        expiresAt: new Date(at.getTime() + ttlMs).toISOString(),
      };
      await opts.store.insertSession(session);
      // A session id the browser held before signing in is dropped, so it cannot be planted beforehand.
      const earlier = readCookie(req, SESSION_COOKIE);
      if (earlier) await opts.store.deleteSession(hashSessionId(earlier));
      res.cookie(SESSION_COOKIE, id, cookieOptions(req, true, ttlMs));
      res.cookie(CSRF_COOKIE, session.csrf, cookieOptions(req, false, ttlMs));
      return { token: record, session };
    },

    async signOut(req: Request, res: Response): Promise<void> {
      const id = readCookie(req, SESSION_COOKIE);
      if (id) await opts.store.deleteSession(hashSessionId(id));
      res.clearCookie(SESSION_COOKIE, cookieOptions(req, true));
      res.clearCookie(CSRF_COOKIE, cookieOptions(req, false));
    },
  };
}

export type SessionAuth = ReturnType<typeof createSessionAuth>;
