import { Router } from 'express';
import { z } from 'zod';
import type { TokenService } from '../../services/tokens';
import { requireAccess } from '../auth';
import type { SessionAuth } from '../auth';
import { HttpError } from '../http-error';
import { jsonBody } from '../json-body';

const SignInSchema = z.object({ token: z.string().trim().min(1).max(512) }).strict();

/**
 * The web page's sign-in: POST trades a token for a session cookie, GET says who is signed in (a bearer token
 * works too), DELETE signs out. JSON only, so a cross-site form cannot sign a browser in.
 */
export function sessionRoutes(deps: { tokens: TokenService; sessions: SessionAuth }): Router {
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

  r.get('/', requireAccess(deps.tokens, 'session.read'), (req, res) => {
    const auth = req.auth!;
    res.json({ name: auth.name, role: auth.role, via: req.webSession ? 'session' : 'token', expiresAt: req.webSession?.expiresAt ?? null });
  });

  r.delete('/', async (req, res) => {
    await deps.sessions.signOut(req, res);
    res.status(204).end();
  });

  return r;
}
