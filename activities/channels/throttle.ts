/**
 * Per-contact throttling, as pure functions (no imports, no clock): the caller keeps the send history of one
 * contact method (person + channel) and asks when the next page may go. Throttled pages are delayed, never
 * dropped.
 *
 * Defaults follow GoAlert (`engine/message/ratelimit.go`, reference temporal-limits.md §3.3): 1 per minute per
 * SMS, voice or email contact method; SMS 5 / 15 min, 11 / h, 21 / 3 h; voice 3 / 15 min, 7 / h, 15 / 3 h. Slack
 * DMs are cheap to receive and Slack itself allows ~1 message/s per channel: 1 per second.
 */

export interface ThrottleRule {
  /** At most `count` sends … */
  count: number;
  /** … in any window of this many milliseconds. */
  windowMs: number;
}

export type ThrottleRules = readonly ThrottleRule[];

/** Contact kinds: the webhook channel carries SMS or voice, so it takes their rules. */
export type ThrottleKind = 'email' | 'slack' | 'sms' | 'voice' | 'webhook';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

export const SMS_THROTTLE: ThrottleRules = [
  { count: 1, windowMs: MINUTE },
  { count: 5, windowMs: 15 * MINUTE },
  { count: 11, windowMs: HOUR },
  { count: 21, windowMs: 3 * HOUR },
];

export const VOICE_THROTTLE: ThrottleRules = [
  { count: 1, windowMs: MINUTE },
  { count: 3, windowMs: 15 * MINUTE },
  { count: 7, windowMs: HOUR },
  { count: 15, windowMs: 3 * HOUR },
];

export const DEFAULT_THROTTLE_RULES: Readonly<Record<ThrottleKind, ThrottleRules>> = {
  email: [{ count: 1, windowMs: MINUTE }],
  slack: [{ count: 1, windowMs: SECOND }],
  sms: SMS_THROTTLE,
  voice: VOICE_THROTTLE,
  webhook: SMS_THROTTLE,
};

type Instant = Date | number | string;

function toMs(value: Instant): number {
  const ms = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Date.parse(value);
  if (!Number.isFinite(ms)) throw new RangeError(`not a time: ${String(value)}`);
  return ms;
}

function checkRules(rules: ThrottleRules): void {
  for (const rule of rules) {
    if (!Number.isInteger(rule.count) || rule.count < 1)
      throw new RangeError(`a throttle rule needs a whole count of at least 1, got ${rule.count}`);
    if (!Number.isFinite(rule.windowMs) || rule.windowMs <= 0)
      throw new RangeError(`a throttle rule needs a positive window, got ${rule.windowMs}`);
  }
}

/**
 * The earliest instant at or after `now` when one more send keeps every rule: for each rule, fewer than `count`
 * sends in the half-open window (t − windowMs, t]. Returns `now` itself (as a Date) when a send may go at once.
 *
 * `history` holds the instants of earlier sends to this contact method (any order; Dates, epoch ms or ISO strings);
 * sends recorded in the future (clock skew) count as well.
 */
export function nextAllowedAt(history: readonly Instant[], now: Instant, rules: ThrottleRules): Date {
  checkRules(rules);
  const nowMs = toMs(now);
  const sent = history.map(toMs).sort((a, b) => b - a);
  let allowed = nowMs;
  for (const rule of rules) {
    // With `count` or more sends, the count-th most recent one must leave the window first.
    const limiting = sent[rule.count - 1];
    if (limiting !== undefined) allowed = Math.max(allowed, limiting + rule.windowMs);
  }
  return new Date(allowed);
}

/** How long to wait before sending, in milliseconds (0 = send now). */
export function throttleDelayMs(history: readonly Instant[], now: Instant, rules: ThrottleRules): number {
  return nextAllowedAt(history, now, rules).getTime() - toMs(now);
}

/** The history entries that can still matter (inside the longest window): what a store needs to keep. */
export function pruneHistory<T extends Instant>(history: readonly T[], now: Instant, rules: ThrottleRules): T[] {
  checkRules(rules);
  const longest = rules.reduce((max, rule) => Math.max(max, rule.windowMs), 0);
  const cutoff = toMs(now) - longest;
  return history.filter((entry) => toMs(entry) > cutoff);
}

/** The rules for a contact kind, with per-kind overrides (e.g. from config/oncall.yaml contact rules). */
export function throttleRulesFor(kind: ThrottleKind, overrides: Partial<Record<ThrottleKind, ThrottleRules>> = {}): ThrottleRules {
  return overrides[kind] ?? DEFAULT_THROTTLE_RULES[kind];
}
