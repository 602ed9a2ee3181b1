import { isUtf8 } from 'node:buffer';
import express from 'express';
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

/** Slack's payloads (a view submission with its blocks is the biggest) stay far below this. */
export const SLACK_BODY_LIMIT = '1mb';

/**
 * Reads the body for Bolt (its receiver takes `req.rawBody` when set) with a limit (Bolt's own has none) and
 * refuses bytes that are not UTF-8 with 400: the signature would match, and Bolt would decode them to U+FFFD.
 */
export function slackRawBody(): RequestHandler[] {
  return [
    express.raw({ type: () => true, limit: SLACK_BODY_LIMIT }),
    (req, res, next) => {
      if (Buffer.isBuffer(req.body)) {
        if (!isUtf8(req.body)) {
          req.log?.warn({ path: req.path }, 'slack: request refused (body is not UTF-8)');
          res.status(400).end();
          return;
        }
        (req as { rawBody?: Buffer }).rawBody = req.body;
      }
      next();
    },
  ];
}
