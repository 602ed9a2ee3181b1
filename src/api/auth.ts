import { timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { actorOfPrincipal } from '../domain/principal';
import type { Principal } from '../domain/principal';
import type { Actor } from '../domain/roles';
import { PERMISSIONS, can } from '../services/access';
import type { UseCase } from '../services/access';
import type { ActionContext } from '../services/audit';
import { tokenPrincipal } from '../services/sessions';
import type { FoundSession, OidcPrincipal, SessionService, WebSession } from '../services/sessions';
import type { TokenService } from '../services/tokens';
import type { SessionRecord, TokenRecord } from '../store/store';
import { HttpError } from './http-error';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- how Express's Request type is extended
  namespace Express {
    interface Request {
      /** Set when the page's session cookie (not a bearer token) authenticated the request. */
      webSession?: WebSession;
      /** Who the request acts as, a token or a signed-in person: set with `auth` or by a session. */
      principal?: Principal;
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
    let principal: Principal;
    if (!header) {
      if (!req.webSession || !req.principal) {
        const message = readCookie(req, SESSION_COOKIE)
          ? 'the session has expired or was signed out; sign in again'
          : 'a bearer token is required (Authorization: Bearer <token>)';
        return next(unauthorized(message));
      }
      principal = req.principal;
    } else {
      const match = BEARER.exec(header);
      if (!match) return next(unauthorized('the Authorization header must be "Bearer <token>"'));
      const record = await tokens.authenticate(match[1]!);
      if (!record) return next(unauthorized('the token is not valid'));
      req.auth = record;
      req.principal = principal = tokenPrincipal(record);
      req.log = req.log.child({ tokenId: record.id });
    }
    if (!can(principal.role, useCase)) {
      const who = principal.kind === 'token' ? 'the token' : 'you';
      return next(
        new HttpError(
          403,
          'forbidden',
          `this needs the ${PERMISSIONS[useCase]} role; ${who} ${principal.kind === 'token' ? 'has' : 'have'} ${principal.role}`,
        ),
      );
    }
    next();
  };
}

export function actorOf(req: { principal?: Principal }): Actor {
  if (!req.principal) throw new HttpError(401, 'unauthorized', 'a bearer token is required');
  return actorOfPrincipal(req.principal);
}

/** Who asks through this request, for the services and their audit rows. */
export function actionContextOf(req: Request): ActionContext {
  return { actor: actorOf(req), requestId: req.id, source: 'api', method: req.method, path: req.baseUrl + req.path };
}

export function sessionRequestOf(req: Request) {
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

  /** Sets `req.principal` (and `req.auth` for a token's session) from a valid session cookie; refuses unsafe methods without the matching CSRF header. */
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
    if (found.token) req.auth = found.token;
    req.principal = found.principal;
    req.webSession = found.session;
    req.log = req.log.child(
      found.principal.kind === 'token'
        ? { tokenId: found.principal.tokenId, via: 'session' }
        : { subject: found.principal.subject, via: 'oidc' },
    );
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

    /** Opens a session for a person the OpenID provider signed in and sets its cookies. */
    async signInPerson(req: Request, res: Response, person: OidcPrincipal): Promise<{ principal: OidcPrincipal; session: WebSession }> {
      const opened = await sessions.openForPerson(person, readCookie(req, SESSION_COOKIE), sessionRequestOf(req));
      res.cookie(SESSION_COOKIE, opened.id, cookieOptions(req, true, sessions.ttlMs));
      res.cookie(CSRF_COOKIE, opened.session.csrf, cookieOptions(req, false, sessions.ttlMs));
      return { principal: opened.principal, session: opened.session };
    },

    /** Drops the session and its cookies; answers what it was, when it was live. */
    async signOut(req: Request, res: Response): Promise<FoundSession | undefined> {
      const id = readCookie(req, SESSION_COOKIE);
      const closed = id ? await sessions.close(id, sessionRequestOf(req)) : undefined;
      res.clearCookie(SESSION_COOKIE, cookieOptions(req, true));
      res.clearCookie(CSRF_COOKIE, cookieOptions(req, false));
      return closed;
    },
  };
}

export type SessionAuth = ReturnType<typeof createSessionAuth>;
