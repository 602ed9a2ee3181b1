import { ApplicationFailure } from '@temporalio/common';
import { ChannelFailureType, throttledFailure } from '../../activities/channels/errors';
import { DEFAULT_THROTTLE_RULES, nextAllowedAt, pruneHistory, throttleDelayMs, throttleRulesFor } from '../../activities/channels/throttle';
import type { ThrottleRules } from '../../activities/channels/throttle';

const T0 = Date.parse('2025-03-30T00:00:00.000Z');
const s = (n: number) => n * 1000;
const min = (n: number) => n * 60_000;

describe('nextAllowedAt', () => {
  const perMinute: ThrottleRules = [{ count: 1, windowMs: min(1) }];

  test('no history: now', () => {
    expect(nextAllowedAt([], T0, perMinute).getTime()).toBe(T0);
    expect(throttleDelayMs([], T0, DEFAULT_THROTTLE_RULES.sms)).toBe(0);
  });

  test('one per minute: a send 20 s ago holds the next one for 40 s', () => {
    expect(nextAllowedAt([T0 - s(20)], T0, perMinute).getTime()).toBe(T0 + s(40));
    expect(throttleDelayMs([T0 - s(20)], T0, perMinute)).toBe(s(40));
  });

  test('the window is half-open: exactly one window later is allowed', () => {
    expect(nextAllowedAt([T0 - min(1)], T0, perMinute).getTime()).toBe(T0);
  });

  test('accepts Dates, epoch ms and ISO strings, in any order', () => {
    const history = [new Date(T0 - s(50)), new Date(T0 - s(10)).toISOString(), T0 - s(30)];
    expect(nextAllowedAt(history, new Date(T0), perMinute).getTime()).toBe(T0 + s(50));
  });

  test('SMS: 5 in 15 minutes holds the 6th until the oldest of those 5 leaves the window', () => {
    // Five sends, two minutes apart: each respects 1/min, together they hit 5/15 min.
    const history = [0, 2, 4, 6, 8].map((m) => T0 - min(10) + min(m));
    const next = nextAllowedAt(history, T0, DEFAULT_THROTTLE_RULES.sms);
    expect(next.getTime()).toBe(T0 - min(10) + min(15));
  });

  test('SMS: 11 an hour and 21 in three hours bind further out', () => {
    // 11 sends, 4 minutes apart, ending 2 minutes ago: 5/15 min holds until the 5th most recent + 15 min,
    // 11/h until the oldest + 60 min; the later one wins.
    const history = Array.from({ length: 11 }, (_, i) => T0 - min(2) - min(4 * i));
    const oldest = T0 - min(2) - min(40);
    const fifth = T0 - min(2) - min(16);
    expect(nextAllowedAt(history, T0, DEFAULT_THROTTLE_RULES.sms).getTime()).toBe(Math.max(oldest + min(60), fifth + min(15)));

    const threeHours = Array.from({ length: 21 }, (_, i) => T0 - min(5) - min(8 * i));
    const oldest21 = T0 - min(5) - min(160);
    expect(nextAllowedAt(threeHours, T0, DEFAULT_THROTTLE_RULES.sms).getTime()).toBe(oldest21 + min(180));
  });

  test('voice is stricter than SMS: 3 in 15 minutes', () => {
    const history = [T0 - min(9), T0 - min(6), T0 - min(3)];
    expect(nextAllowedAt(history, T0, DEFAULT_THROTTLE_RULES.voice).getTime()).toBe(T0 - min(9) + min(15));
    expect(nextAllowedAt(history, T0, DEFAULT_THROTTLE_RULES.sms).getTime()).toBe(T0);
  });

  test('email: one a minute; Slack: one a second', () => {
    expect(throttleDelayMs([T0 - s(1)], T0, DEFAULT_THROTTLE_RULES.email)).toBe(s(59));
    expect(throttleDelayMs([T0 - 400], T0, DEFAULT_THROTTLE_RULES.slack)).toBe(600);
    expect(throttleDelayMs([T0 - s(1)], T0, DEFAULT_THROTTLE_RULES.slack)).toBe(0);
  });

  test('the webhook channel (SMS/voice gateways) takes the SMS rules', () => {
    expect(DEFAULT_THROTTLE_RULES.webhook).toEqual(DEFAULT_THROTTLE_RULES.sms);
  });

  test('sends recorded in the future (clock skew) still count', () => {
    expect(nextAllowedAt([T0 + s(5)], T0, perMinute).getTime()).toBe(T0 + s(65));
  });

  test('identical timestamps count separately', () => {
    const rules: ThrottleRules = [{ count: 2, windowMs: min(1) }];
    expect(nextAllowedAt([T0 - s(10), T0 - s(10)], T0, rules).getTime()).toBe(T0 + s(50));
    expect(nextAllowedAt([T0 - s(10)], T0, rules).getTime()).toBe(T0);
  });

  test('delayed, never dropped: following the answer always leads to a send', () => {
    const rules = DEFAULT_THROTTLE_RULES.sms;
    const history: number[] = [];
    let now = T0;
    // 30 pages asked for at once: each goes at its allowed time, and every window keeps its limit.
    for (let i = 0; i < 30; i++) {
      const at = nextAllowedAt(history, now, rules).getTime();
      expect(at).toBeGreaterThanOrEqual(now);
      history.push(at);
      now = at;
    }
    expect(history).toHaveLength(30);
    for (const rule of rules) {
      for (const t of history) {
        const inWindow = history.filter((h) => h > t - rule.windowMs && h <= t).length;
        expect(inWindow).toBeLessThanOrEqual(rule.count);
      }
    }
  });

  test('bad rules and times are refused', () => {
    expect(() => nextAllowedAt([], T0, [{ count: 0, windowMs: 1000 }])).toThrow(RangeError);
    expect(() => nextAllowedAt([], T0, [{ count: 1, windowMs: 0 }])).toThrow(RangeError);
    expect(() => nextAllowedAt(['yesterday'], T0, perMinute)).toThrow(RangeError);
  });
});

describe('pruneHistory and throttleRulesFor', () => {
  test('keeps only what the longest window can still see', () => {
    const history = [T0 - min(181), T0 - min(180), T0 - min(179), T0 - s(1)];
    expect(pruneHistory(history, T0, DEFAULT_THROTTLE_RULES.sms)).toEqual([T0 - min(179), T0 - s(1)]);
    expect(pruneHistory(history, T0, DEFAULT_THROTTLE_RULES.email)).toEqual([T0 - s(1)]);
  });

  test('overrides per kind', () => {
    const custom: ThrottleRules = [{ count: 2, windowMs: min(5) }];
    expect(throttleRulesFor('sms', { sms: custom })).toBe(custom);
    expect(throttleRulesFor('email', { sms: custom })).toBe(DEFAULT_THROTTLE_RULES.email);
  });
});

describe('throttledFailure', () => {
  test('is retryable with nextRetryDelay set to the wait, rounded up to whole seconds', () => {
    const failure = throttledFailure('email', throttleDelayMs([T0 - s(20) - 500], T0, DEFAULT_THROTTLE_RULES.email));
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: ChannelFailureType.throttled, nonRetryable: false, nextRetryDelay: '40s' });
  });
});
