import { Router } from 'express';
import { z } from 'zod';
import type { OidcService } from '../../services/oidc';
import type { TokenService } from '../../services/tokens';
import { requireAccess } from '../auth';
import type { SessionAuth } from '../auth';
import { HttpError } from '../http-error';
import { jsonBody } from '../json-body';

const SignInSchema = z.object({ token: z.string().trim().min(1).max(512) }).strict();

/**
 * The web page's sign-in: POST trades a token for a session cookie, GET says who is signed in (a bearer token
 * works too), DELETE signs out. JSON only, so a cross-site form cannot sign a browser in. GET /options tells the
 * sign-in screen, before anyone is signed in, whether single sign-on is on (src/api/routes/oidc.ts).
 */
export function sessionRoutes(deps: { tokens: TokenService; sessions: SessionAuth; oidc?: OidcService }): Router {
  const r = Router();
  const json = jsonBody();

  r.post('/', json, async (req, res) => {
    if (!req.is('application/json')) throw new HttpError(415, 'unsupported_media_type', 'send the body as application/json');
    const { token } = SignInSchema.parse(req.body ?? {});
    const opened = await deps.sessions.signIn(req, res, token);
    if (!opened) throw new HttpError(401, 'unauthorized', 'the token is not valid');
    req.log.info({ tokenId: opened.token.id }, 'signed in');
    res.status(201).json({ name: opened.token.name, role: opened.token.role, expiresAt: opened.session.expiresAt });
  });

  r.get('/options', (_req, res) => {
    res.json({ token: true, sso: deps.oidc ? { loginUrl: '/auth/oidc/login' } : null });
  });

  r.get('/', requireAccess(deps.tokens, 'session.read'), (req, res) => {
    const p = req.principal!;
    const common = { name: p.name, role: p.role, via: req.webSession ? 'session' : 'token', expiresAt: req.webSession?.expiresAt ?? null };
    if (p.kind === 'token') return res.json({ ...common, kind: 'token' });
    res.json({ ...common, kind: 'oidc', subject: p.subject, email: p.email, issuer: p.issuer });
  });

  /** 204; or, for a person signed in through a provider that has a sign-out endpoint, 200 with where to go next. */
  r.delete('/', async (req, res) => {
    const closed = await deps.sessions.signOut(req, res);
    const redirect = closed?.principal.kind === 'oidc' && deps.oidc ? await deps.oidc.endSessionUrl() : undefined;
    if (redirect) return res.status(200).json({ redirect });
    res.status(204).end();
  });

  return r;
}
