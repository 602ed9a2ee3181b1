import { z } from 'zod';
import type { AlertEvent } from '../domain/alert';
import type { SilenceMatcher, SilenceRecord } from '../store/store';

export type { SilenceMatcher, SilenceRecord } from '../store/store';

/** A silence longer than this is a forgotten silence; make a new one when the work really takes longer. */
export const MAX_SILENCE_DAYS = 90;
export const MAX_MATCHERS = 50;

/** Regexes are anchored like Alertmanager's: the whole label value must match. Invalid ones are refused on input. */
function anchored(pattern: string): RegExp | undefined {
  try {
    return new RegExp(`^(?:${pattern})$`);
  } catch {
    return undefined;
  }
}

export const SilenceMatcherSchema = z
  .object({
    name: z.string().min(1).max(1024),
    value: z.string().max(1024),
    op: z.enum(['=', '!=', '=~', '!~']).default('='),
  })
  .strict()
  .superRefine((m, ctx) => {
    if ((m.op === '=~' || m.op === '!~') && !anchored(m.value))
      ctx.addIssue({ code: 'custom', path: ['value'], message: 'not a valid regular expression' });
  });

/** POST /api/v1/silences. `startsAt` defaults to now; `endsAt` or `duration` (e.g. "2h") says when it ends. */
export const CreateSilenceSchema = z
  .object({
    matchers: z.array(SilenceMatcherSchema).min(1, 'give at least one matcher').max(MAX_MATCHERS),
    startsAt: z.iso.datetime({ offset: true }).optional(),
    endsAt: z.iso.datetime({ offset: true }).optional(),
    duration: z
      .string()
      .regex(/^\d{1,6}(m|h|d)$/, 'expected minutes, hours or days such as 30m, 2h or 1d')
      .optional(),
    comment: z.string().trim().min(1, 'say why (a change ticket, the maintenance)').max(2000),
  })
  .strict()
  .superRefine((input, ctx) => {
    if ((input.endsAt === undefined) === (input.duration === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['endsAt'], message: 'give either endsAt or duration' });
    }
    // Like Alertmanager: a silence whose every matcher also matches an empty (missing) label would silence
    // nearly everything, which is never what a maintenance window means.
    if (input.matchers.length > 0 && input.matchers.every((m) => matcherMatches(m, ''))) {
      ctx.addIssue({
        code: 'custom',
        path: ['matchers'],
        message: 'at least one matcher must need a label to be present (every matcher here also matches alerts without the label)',
      });
    }
  });
export type CreateSilenceInput = z.infer<typeof CreateSilenceSchema>;

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** The window the input asks for, checked: it ends after it starts, in the future, within MAX_SILENCE_DAYS. */
export function silenceWindow(
  input: CreateSilenceInput,
  now: Date,
): { startsAt: string; endsAt: string } | { error: { path: string; message: string } } {
  const start = input.startsAt ? new Date(input.startsAt) : now;
  let end: Date;
  if (input.duration) {
    const unit = input.duration.slice(-1);
    end = new Date(start.getTime() + Number(input.duration.slice(0, -1)) * (UNIT_MS[unit] ?? 0));
  } else {
    end = new Date(input.endsAt as string);
  }
  if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime())) return { error: { path: 'endsAt', message: 'not a valid time' } };
  if (end.getTime() <= start.getTime()) return { error: { path: 'endsAt', message: 'must be after startsAt' } };
  if (end.getTime() <= now.getTime()) return { error: { path: 'endsAt', message: 'must be in the future' } };
  if (end.getTime() - start.getTime() > MAX_SILENCE_DAYS * UNIT_MS.d!)
    return { error: { path: 'endsAt', message: `a silence lasts at most ${MAX_SILENCE_DAYS} days` } };
  return { startsAt: start.toISOString(), endsAt: end.toISOString() };
}

const regexCache = new Map<string, RegExp | undefined>();
const REGEX_CACHE_LIMIT = 1000;

function cachedRegex(pattern: string): RegExp | undefined {
  if (regexCache.has(pattern)) return regexCache.get(pattern);
  if (regexCache.size >= REGEX_CACHE_LIMIT) regexCache.clear();
  const regex = anchored(pattern);
  regexCache.set(pattern, regex);
  return regex;
}

/** A missing label reads as "" (Prometheus semantics), so `name!=""` means "the label is present". */
export function matcherMatches(matcher: SilenceMatcher, value: string): boolean {
  switch (matcher.op) {
    case '=':
      return value === matcher.value;
    case '!=':
      return value !== matcher.value;
    case '=~':
      return cachedRegex(matcher.value)?.test(value) ?? false;
    case '!~': {
      const regex = cachedRegex(matcher.value);
      return regex ? !regex.test(value) : false;
    }
  }
}

export function silenceMatches(silence: SilenceRecord, labels: Readonly<Record<string, string>>): boolean {
  return silence.matchers.every((m) => matcherMatches(m, Object.hasOwn(labels, m.name) ? (labels[m.name] ?? '') : ''));
}

function isActive(silence: SilenceRecord, atMs: number): boolean {
  return Date.parse(silence.startsAt) <= atMs && atMs < Date.parse(silence.endsAt);
}

/** The first silence in force at `at` whose matchers all match the alert's labels. */
export function findSilence(
  silences: readonly SilenceRecord[],
  alert: Pick<AlertEvent, 'labels'>,
  at: Date | string,
): SilenceRecord | undefined {
  const atMs = typeof at === 'string' ? Date.parse(at) : at.getTime();
  return silences.find((s) => isActive(s, atMs) && silenceMatches(s, alert.labels));
}

/** Whether a maintenance window silences this alert at `at`: recorded, but starting nothing. */
export function isSilenced(silences: readonly SilenceRecord[], alert: Pick<AlertEvent, 'labels'>, at: Date | string): boolean {
  return findSilence(silences, alert, at) !== undefined;
}

/**
 * The silences in force now or later, held in memory so the sink can ask synchronously for every alert. Refreshed
 * from the store every `refreshMs` (other processes' changes arrive within that) and at once after this process's
 * own API changes.
 */
export class SilenceCache {
  private silences: SilenceRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly refreshMs: number;
  private readonly now: () => Date;
  private readonly onError: (error: unknown) => void;

  constructor(
    private readonly store: { listSilences(filter: { activeAt?: string; limit?: number }): Promise<SilenceRecord[]> },
    options: { refreshMs?: number; now?: () => Date; onError?: (error: unknown) => void } = {},
  ) {
    this.refreshMs = options.refreshMs ?? 10_000;
    this.now = options.now ?? (() => new Date());
    this.onError = options.onError ?? (() => undefined);
  }

  async refresh(): Promise<void> {
    const at = this.now().toISOString();
    // Latest end first, so the ones not yet ended come before the expired history.
    const all = await this.store.listSilences({ limit: 1000 });
    this.silences = all.filter((s) => s.endsAt > at);
  }

  /** Loads once, then keeps refreshing until stop(); a failed refresh keeps the last list. */
  async start(): Promise<void> {
    await this.refresh();
    this.timer ??= setInterval(() => {
      this.refresh().catch(this.onError);
    }, this.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** For the sink: `(alert, at) => boolean`. */
  readonly isSilenced = (alert: Pick<AlertEvent, 'labels'>, at: Date | string): boolean => isSilenced(this.silences, alert, at);

  /** The silence that silences the alert at `at`, to record which one did. */
  find(alert: Pick<AlertEvent, 'labels'>, at: Date | string): SilenceRecord | undefined {
    return findSilence(this.silences, alert, at);
  }
}
