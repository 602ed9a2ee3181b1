import type { Request, RequestHandler } from 'express';
import type { Metrics } from '../observability/metrics';
import type { AuthDoor, AuthThrottle } from '../services/auth-throttle';
import { SESSION_COOKIE, readCookie } from './auth';

/** Which credential a request presents, by where it goes (the doors of src/services/auth-throttle.ts). */
export function authDoorOf(req: Request): AuthDoor {
  const p = req.path;
  if (p.startsWith('/slack/')) return 'slack';
  if (p.startsWith('/api/v1/alerts/') || p.startsWith('/v2/')) return 'integration';
  if (p === '/api/v1/session' && req.method === 'POST') return 'session';
  return 'bearer';
}

/**
 * A 401 at the bearer door counts as a guess only when a credential was presented: the page asks the API
 * before anyone signed in, and those refusals must not lock out the person about to sign in from that browser.
 */
function presentedCredential(req: Request, door: AuthDoor): boolean {
  if (door !== 'bearer') return true;
  return req.headers.authorization !== undefined || readCookie(req, SESSION_COOKIE) !== undefined;
}

/**
 * In front of every route: refuses an address that failed authentication too often at this door (429 +
 * Retry-After, before anything is read or checked), and counts each 401 this app answers. The refusal is the
 * same whatever the request carries, so a throttled guesser learns nothing, not even whether a guess was right.
 */
export function authThrottleGuard(deps: { throttle: AuthThrottle; metrics: Metrics }): RequestHandler {
  return (req, res, next) => {
    const door = authDoorOf(req);
    const address = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    const wait = deps.throttle.retryAfter(door, address);
    if (wait !== undefined) {
      deps.metrics.authThrottled.inc({ door });
      res.setHeader('Retry-After', String(wait));
      res.status(429).json({
        error: {
          code: 'too_many_attempts',
          message: `too many failed authentications; retry in ${wait} s`,
          details: { retryAfterSeconds: wait },
        },
      });
      return;
    }
    res.on('finish', () => {
      if (res.statusCode !== 401 || !presentedCredential(req, door)) return;
      deps.metrics.authFailures.inc({ door });
      // Reaches the store in the background; never rejects (the throttle reports store errors to its onError).
      void deps.throttle.failed(door, address);
    });
    next();
  };
}
