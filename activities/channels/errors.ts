import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import type { Duration } from '@temporalio/common';
import { MAX_RETRY_AFTER_MS } from '../shared/http';
import type { ChannelKind } from './types';

/** The `type` of every ApplicationFailure a channel throws. */
export const ChannelFailureType = {
  /** The provider refused for good (SMTP 5xx, Slack `channel_not_found`, webhook 400) or the contact is unusable. Not retried. */
  permanent: 'ChannelPermanentFailure',
  /** Worth another attempt (SMTP 4xx, connection refused, Slack `internal_error`, webhook 5xx/408, timeouts before sending). */
  temporary: 'ChannelTemporaryFailure',
  /** The provider asked us to wait (HTTP 429 + Retry-After): retryable, with `nextRetryDelay` set to exactly that wait. */
  rateLimited: 'ChannelRateLimited',
  /**
   * The message may have been delivered and the provider cannot deduplicate (the SMTP connection died after the
   * whole message was sent, before the server's answer: RFC 1047). Not retried: a duplicate page is worse than
   * escalating to the next level.
   */
  uncertain: 'ChannelDeliveryUncertain',
  /** Fireline's own per-contact throttle (./throttle) holds the page back: retryable, `nextRetryDelay` = the wait. */
  throttled: 'ChannelThrottled',
} as const;

export type ChannelFailureType = (typeof ChannelFailureType)[keyof typeof ChannelFailureType];

/** `details[0]` of every channel failure. */
export interface ChannelFailureDetails {
  channel: ChannelKind;
  /** The provider's code: SMTP reply code or nodemailer code, Slack error string, HTTP status; null when none. */
  code: string | number | null;
  /** Rate-limited failures: the wait the provider asked for, in milliseconds. */
  retryAfterMs?: number;
}

function failure(
  type: ChannelFailureType,
  nonRetryable: boolean,
  message: string,
  details: ChannelFailureDetails,
  extra: { nextRetryDelay?: Duration; cause?: Error } = {},
) {
  return ApplicationFailure.create({
    message,
    type,
    nonRetryable,
    details: [details],
    ...(extra.nextRetryDelay !== undefined ? { nextRetryDelay: extra.nextRetryDelay, category: ApplicationFailureCategory.BENIGN } : {}),
    ...(extra.cause ? { cause: extra.cause } : {}),
  });
}

export function permanentFailure(channel: ChannelKind, message: string, code: string | number | null = null): ApplicationFailure {
  return failure(ChannelFailureType.permanent, true, message, { channel, code });
}

export function temporaryFailure(channel: ChannelKind, message: string, code: string | number | null = null): ApplicationFailure {
  return failure(ChannelFailureType.temporary, false, message, { channel, code });
}

export function uncertainFailure(channel: ChannelKind, message: string, code: string | number | null = null): ApplicationFailure {
  return failure(ChannelFailureType.uncertain, true, message, { channel, code });
}

/** A wait in whole seconds, at least 1 s, at most MAX_RETRY_AFTER_MS (the activity's timeouts bound it anyway). */
function retryDelaySeconds(ms: number): number {
  return Math.min(Math.max(Math.ceil(ms / 1000), 1), MAX_RETRY_AFTER_MS / 1000);
}

/** Retryable, and Temporal's next attempt starts `retryAfterMs` later (see retryDelaySeconds) instead of the retry policy's backoff. */
export function rateLimitedFailure(
  channel: ChannelKind,
  message: string,
  retryAfterMs: number,
  code: string | number | null = 429,
): ApplicationFailure {
  const seconds = retryDelaySeconds(retryAfterMs);
  const nextRetryDelay: Duration = `${seconds}s`;
  return failure(ChannelFailureType.rateLimited, false, message, { channel, code, retryAfterMs: seconds * 1000 }, { nextRetryDelay });
}

/**
 * For an activity that applies the per-contact throttle itself: the page waits `delayMs` and is then retried.
 * Each such wait uses one attempt of the activity's retry policy; throttling in the workflow (sleep until
 * `nextAllowedAt`) uses none.
 */
export function throttledFailure(channel: ChannelKind, delayMs: number): ApplicationFailure {
  const seconds = retryDelaySeconds(delayMs);
  const nextRetryDelay: Duration = `${seconds}s`;
  return failure(
    ChannelFailureType.throttled,
    false,
    `throttled: the contact was paged recently; next ${channel} page in ${seconds}s`,
    { channel, code: null, retryAfterMs: seconds * 1000 },
    { nextRetryDelay },
  );
}

/** True for a channel failure that retrying cannot fix (permanent or uncertain). */
export function isFinalChannelFailure(error: unknown): boolean {
  return (
    error instanceof ApplicationFailure &&
    error.nonRetryable === true &&
    (error.type === ChannelFailureType.permanent || error.type === ChannelFailureType.uncertain)
  );
}

/** The details of a channel failure, or undefined for any other error. */
export function channelFailureDetails(error: unknown): ChannelFailureDetails | undefined {
  if (!(error instanceof ApplicationFailure)) return undefined;
  if (!Object.values<string>(ChannelFailureType).includes(error.type ?? '')) return undefined;
  return error.details?.[0] as ChannelFailureDetails | undefined;
}
