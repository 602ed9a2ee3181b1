import { timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import type { Actor, Role } from '../domain/roles';
import { PERMISSIONS, can } from '../services/access';
import type { UseCase } from '../services/access';
import type { ActionContext } from '../services/audit';
import type { SessionService } from '../services/sessions';
import type { TokenService } from '../services/tokens';
import type { SessionRecord, TokenRecord } from '../store/store';
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
 * Authenticates the bearer token and checks the role the use case needs (src/services/access.ts). Without an
 * Authorization header, a page session that the session middleware accepted stands in for the token.
 */
export function requireAccess(tokens: TokenService, useCase: UseCase): RequestHandler {
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
    if (!can(record.role, useCase)) {
      return next(new HttpError(403, 'forbidden', `this needs the ${PERMISSIONS[useCase]} role; the token has ${record.role}`));
    }
    next();
  };
}

export function actorOf(req: { auth?: { id: string; name: string; role: Role } }): Actor {
  if (!req.auth) throw new HttpError(401, 'unauthorized', 'a bearer token is required');
  return { id: `token:${req.auth.id}`, name: req.auth.name, role: req.auth.role };
}

/** Who asks through this request, for the services and their audit rows. */
export function actionContextOf(req: Request): ActionContext {
  return { actor: actorOf(req), requestId: req.id, source: 'api', method: req.method, path: req.baseUrl + req.path };
}

function sessionRequestOf(req: Request) {
  return { requestId: req.id, source: 'api' as const, method: req.method, path: req.baseUrl + req.path };
}

export interface SessionAuthOptions {
  sessions: SessionService;
  /** Cookies get `Secure` when the public URL is https (or the request itself came over TLS). */
  publicUrl?: string;
}

/**
 * The web page's sessions over HTTP. The session id travels in an httpOnly, SameSite=Strict cookie.
 * State-changing requests made with the cookie must also carry X-Fireline-CSRF equal to the session's CSRF value,
 * which the page reads from a second, script-readable cookie: another site can make the browser send cookies
 * (SameSite already stops that) but never that header. Requests with an Authorization header never look at
 * cookies, so API clients work as before.
 */
export function createSessionAuth(opts: SessionAuthOptions) {
  const { sessions } = opts;
  const httpsUrl = opts.publicUrl?.startsWith('https:') ?? false;

  function cookieOptions(req: Request, httpOnly: boolean, maxAgeMs?: number) {
    return {
      httpOnly,
      sameSite: 'strict' as const,
      secure: httpsUrl || req.secure,
      path: '/',
      ...(maxAgeMs === undefined ? {} : { maxAge: maxAgeMs }),
    };
  }

  /** Requests of routes that change nothing, let through without the CSRF header (see readOnlyMiddleware). */
  const changesNothing = new WeakSet<Request>();

  /** Sets `req.auth` from a valid session cookie; refuses unsafe methods without the matching CSRF header. */
  const middleware: RequestHandler = async (req, _res, next) => {
    if (req.get('authorization')) return next();
    const id = readCookie(req, SESSION_COOKIE);
    if (!id) return next();
    const found = await sessions.find(id);
    if (!found) return next();
    if (!SAFE_METHODS.has(req.method) && !changesNothing.has(req)) {
      const given = req.get(CSRF_HEADER);
      if (!given || !sameSecret(given, found.session.csrf)) {
        return next(
          new HttpError(
            403,
            'csrf_failed',
            `a request signed in by cookie must send the ${CSRF_HEADER} header (the value of the ${CSRF_COOKIE} cookie)`,
          ),
        );
      }
    }
    req.auth = found.token;
    req.webSession = found.session;
    req.log = req.log.child({ tokenId: found.token.id, via: 'session' });
    next();
  };

  return {
    middleware,
    /**
     * For POST routes that change nothing (the codec server): the cookie stands without the CSRF header, which a
     * page of another origin (the Temporal UI with "include credentials") cannot send. CSRF guards state
     * changes; who may read the answer is CORS's call, and SameSite=Strict keeps other sites' requests cookieless.
     */
    readOnlyMiddleware: ((req, res, next) => {
      changesNothing.add(req);
      return middleware(req, res, next);
    }) as RequestHandler,

    /** Opens a session for `token` and sets its cookies; answers undefined when the token is not valid. */
    async signIn(req: Request, res: Response, token: string): Promise<{ token: TokenRecord; session: SessionRecord } | undefined> {
      const opened = await sessions.open(token, readCookie(req, SESSION_COOKIE), sessionRequestOf(req));
      if (!opened) return undefined;
      res.cookie(SESSION_COOKIE, opened.id, cookieOptions(req, true, sessions.ttlMs));
      res.cookie(CSRF_COOKIE, opened.session.csrf, cookieOptions(req, false, sessions.ttlMs));
      return { token: opened.token, session: opened.session };
    },

    async signOut(req: Request, res: Response): Promise<void> {
      const id = readCookie(req, SESSION_COOKIE);
      if (id) await sessions.close(id, sessionRequestOf(req));
      res.clearCookie(SESSION_COOKIE, cookieOptions(req, true));
      res.clearCookie(CSRF_COOKIE, cookieOptions(req, false));
    },
  };
}

export type SessionAuth = ReturnType<typeof createSessionAuth>;
