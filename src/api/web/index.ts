import path from 'node:path';
import express, { Router } from 'express';
import type { RequestHandler } from 'express';
import { IncidentIdSchema } from '../../domain/incident';

/** The page's files: hand-written ES modules, CSS and one HTML file; no build step, nothing from a CDN. */
export const WEB_ROOT = path.join(__dirname, 'static');

/**
 * Only this origin's scripts, styles and connections; no inline script, no framing. Charts are SVG built
 * with DOM calls, so they need nothing more.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const securityHeaders: RequestHandler = (_req, res, next) => {
  res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  next();
};

/**
 * GET / (the page), /assets/* (its modules and styles) and /incidents/:id (the link that pages, emails and Slack
 * messages carry). Everything else stays with the API's 404.
 */
export function webRoutes(): Router {
  const r = Router();
  // Revalidated on every load (ETag): a restarted server never leaves a stale module in a browser.
  const assets = express.static(WEB_ROOT, {
    index: false,
    fallthrough: true,
    redirect: false,
    maxAge: 0,
    setHeaders: (res) => res.setHeader('Cache-Control', 'no-cache'),
  });
  r.get('/', securityHeaders, (_req, res) => {
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(path.join(WEB_ROOT, 'index.html'));
  });
  r.use('/assets', securityHeaders, assets);
  // Messages link to a plain path that stays valid whatever the page's client-side router does; the page itself
  // routes by fragment.
  r.get('/incidents/:id', (req, res, next) => {
    const id = IncidentIdSchema.safeParse(req.params.id);
    if (!id.success) return next();
    res.redirect(302, `/#/incidents/${id.data}`);
  });
  return r;
}
