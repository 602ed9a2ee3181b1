import { Router } from 'express';
import type { Request, Response } from 'express';
import type { OidcService } from '../../services/oidc';
import { safeReturnTo } from '../../services/oidc';
import { ServiceError } from '../../services/errors';
import { readCookie } from '../auth';
import { SERVICE_STATUS } from '../errors';
import type { SessionAuth } from '../auth';

/** Ties a login to the browser that started it. Lax, so the provider's redirect back (a cross-site navigation) carries it. */
export const OIDC_LOGIN_COOKIE = 'fireline_oidc_login';
const LOGIN_COOKIE_PATH = '/auth/oidc';

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** A plain page for a browser that was sent here by the provider: what went wrong and a way back. */
function sendProblem(res: Response, status: number, title: string, message: string): void {
  res.status(status);
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader(
    'Content-Security-Policy',
    "default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  );
  res.send(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(title)} · Fireline</title><link rel="stylesheet" href="/assets/style.css"></head>
<body><main class="signin"><h1>${escapeHtml(title)}</h1><p class="notice error" role="alert" id="sso-problem">${escapeHtml(message)}</p>
<p><a href="/">Back to the sign-in page</a></p></main></body>
</html>
`);
}

/**
 * The web page's single sign-on: GET /auth/oidc/login sends the browser to the OpenID provider, GET
 * /auth/oidc/callback takes it back, opens a session (the same cookies and CSRF as a token's session) and goes
 * on to `returnTo`. Both are navigations, so failures are pages, not JSON.
 */
export function oidcRoutes(deps: { oidc: OidcService; sessions: SessionAuth }): Router {
  const r = Router();
  const { publicUrl } = deps.oidc;
  const secure = publicUrl.startsWith('https:');
  const loginCookie = (req: Request) => ({
    httpOnly: true,
    sameSite: 'lax' as const,
    secure: secure || req.secure,
    path: LOGIN_COOKIE_PATH,
  });

  const problem = (res: Response, err: unknown) => {
    if (err instanceof ServiceError) {
      const title = err.code === 'forbidden' ? 'Sign-in refused' : err.code === 'unavailable' ? 'Sign-in unavailable' : 'Sign-in failed';
      return sendProblem(res, SERVICE_STATUS[err.code], title, err.message);
    }
    throw err;
  };

  r.get('/login', async (req, res) => {
    const returnTo = safeReturnTo(req.query.returnTo, publicUrl);
    if (returnTo === undefined) {
      return sendProblem(res, 400, 'Sign-in failed', 'returnTo must be a path on this site, such as /#/incidents');
    }
    try {
      const { url, browser } = await deps.oidc.begin(returnTo, readCookie(req, OIDC_LOGIN_COOKIE));
      res.cookie(OIDC_LOGIN_COOKIE, browser, { ...loginCookie(req), maxAge: deps.oidc.loginTtlMs });
      res.setHeader('Cache-Control', 'no-store');
      res.redirect(302, url);
    } catch (err) {
      problem(res, err);
    }
  });

  r.get('/callback', async (req, res) => {
    // The URL the provider redirected to, on the public origin: the Host header is not trusted for it.
    const callbackUrl = new URL(req.originalUrl, `${publicUrl}/`);
    try {
      const { person, returnTo } = await deps.oidc.finish(callbackUrl, readCookie(req, OIDC_LOGIN_COOKIE));
      const { session } = await deps.sessions.signInPerson(req, res, person);
      req.log.info({ subject: person.subject, role: person.role, expiresAt: session.expiresAt }, 'signed in through the identity provider');
      res.setHeader('Cache-Control', 'no-store');
      res.redirect(302, returnTo);
    } catch (err) {
      req.log.info({ reason: (err as Error).message }, 'single sign-on refused');
      problem(res, err);
    }
  });

  return r;
}
