import type { RequestHandler } from 'express';

/** Slack's replay window: requests signed more than five minutes from now, either way, are refused. */
export const SLACK_MAX_SKEW_SECONDS = 300;

/**
 * Whether the `X-Slack-Request-Timestamp` header is usable: present, a whole number of seconds, and within five
 * minutes of now in BOTH directions. Bolt's receiver refuses old timestamps but accepts any future one, so a request
 * signed with a clock far ahead (or captured from a misconfigured sender) could be replayed for as long as it likes.
 */
export function slackTimestampIsFresh(header: string | string[] | undefined, nowMs: number): boolean {
  if (typeof header !== 'string' || !/^\d{1,12}$/.test(header)) return false;
  return Math.abs(Math.floor(nowMs / 1000) - Number(header)) <= SLACK_MAX_SKEW_SECONDS;
}

/**
 * Runs in front of Bolt's receiver: refuses stale, future or missing timestamps with an opaque 401 before the body
 * is read. Bolt then checks the signature over the raw body (and the age again).
 */
export function slackTimestampGuard(now: () => number = Date.now): RequestHandler {
  return (req, res, next) => {
    if (!slackTimestampIsFresh(req.headers['x-slack-request-timestamp'], now())) {
      req.log?.warn({ path: req.path }, 'slack: request refused (missing, stale or future timestamp)');
      res.status(401).end();
      return;
    }
    next();
  };
}
