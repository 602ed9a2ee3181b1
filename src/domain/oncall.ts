import { DateTime, IANAZone } from 'luxon';
import { z } from 'zod';
import { DurationSchema, formatDuration } from './duration';
import { RoleSchema } from './roles';

/**
 * config/oncall.yaml: people, schedules and escalation policies. Pure schemas; the loader
 * (src/oncall/load.ts) adds positions and the checks that span sections (unknown people, duplicate ids).
 */

const Id = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'use lowercase letters, digits and dashes');

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** Bounded durations, with the limit in the message as an author would write it. */
function boundedDuration(min: number, max: number) {
  return DurationSchema.refine((ms) => ms >= min && ms <= max, {
    error: `must be from ${min === 0 ? '0m' : formatDuration(min)} to ${formatDuration(max)}`,
  });
}

export const TimeZoneSchema = z.string().refine((zone) => IANAZone.isValidZone(zone), {
  error: (issue) => `${JSON.stringify(issue.input)} is not an IANA time zone (e.g. Europe/Berlin, America/New_York, UTC)`,
});

/** "09:00" — a local time of day; "24:00" only where a window ends at midnight. */
const TIME_RE = /^([01]?\d|2[0-3]):([0-5]\d)$/;
export const TimeOfDaySchema = z.string().regex(TIME_RE, 'a local time of day such as "09:00"');
const EndTimeOfDaySchema = z.string().refine((t) => t === '24:00' || TIME_RE.test(t), 'a local time of day such as "17:00" (or "24:00")');

/** Minutes after local midnight of "HH:MM" (1440 for "24:00"). */
export function minutesOfDay(text: string): number {
  const [h, m] = text.split(':');
  return Number(h) * 60 + Number(m);
}

const DateSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date such as 2025-01-06 (the hand-off time gives the hour)')
  .refine((d) => DateTime.fromISO(d, { zone: 'utc' }).isValid, {
    error: (issue) => `${JSON.stringify(issue.input)} is not a calendar date`,
  });

/**
 * An instant: with an offset ("2025-03-29T09:00:00+01:00", "…Z"), or a local date-time ("2025-03-29T09:00")
 * read in the schedule's time zone.
 */
const DateTimeSchema = z.string().refine((t) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(t) && DateTime.fromISO(t, { zone: 'utc' }).isValid, {
  error: (issue) => `${JSON.stringify(issue.input)} is not a date-time (use e.g. 2025-03-29T09:00 or 2025-03-29T09:00:00Z)`,
});

export const CHANNELS = ['slack', 'email', 'webhook'] as const;
export const ChannelSchema = z.enum(CHANNELS);
export type Channel = z.infer<typeof ChannelSchema>;

/** Which address a channel needs on the person. */
export const CHANNEL_ADDRESS = { slack: 'slack', email: 'email', webhook: 'webhook' } as const satisfies Record<Channel, string>;

export const ContactRuleSchema = z
  .object({
    channel: ChannelSchema,
    /** After the person is paged at a level; 0m = at once. */
    delay: boundedDuration(0, DAY_MS).default(0),
  })
  .strict();
export type ContactRule = z.infer<typeof ContactRuleSchema>;

export const PersonSchema = z
  .object({
    id: Id,
    name: z.string().trim().min(1).max(200),
    email: z.email('an email address').optional(),
    /** Slack member id (U…/W…), not a display name: names change, ids do not. */
    slack: z
      .string()
      .regex(/^[UW][A-Z0-9]{2,20}$/, 'a Slack member id such as U012AB3CD')
      .optional(),
    /** What the SMS/voice gateway webhook is given: a target id or a phone number. */
    webhook: z.string().trim().min(1).max(200).optional(),
    timeZone: TimeZoneSchema,
    /** In order of delay; without rules, every address the person has is used at once. */
    contact: z.array(ContactRuleSchema).max(10).optional(),
    /** What the person may do in Fireline when acting through Slack (viewer < responder < commander < admin). */
    role: RoleSchema.default('responder'),
  })
  .strict()
  .transform((p) => ({
    ...p,
    contact: p.contact ?? CHANNELS.filter((c) => p[CHANNEL_ADDRESS[c]] !== undefined).map((channel) => ({ channel, delay: 0 })),
  }));
export type Person = z.output<typeof PersonSchema>;

export const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export const DaySchema = z.enum(DAYS);
export type Day = z.infer<typeof DaySchema>;

/**
 * A window on each listed day, in the schedule's time zone; `to` at or before `from` runs past midnight
 * (mon 17:00 → tue 09:00 is `{ days: [mon], from: "17:00", to: "09:00" }`).
 */
export const RestrictionSchema = z
  .object({
    days: z
      .array(DaySchema)
      .min(1)
      .max(7)
      .default([...DAYS]),
    from: TimeOfDaySchema,
    to: EndTimeOfDaySchema,
  })
  .strict();
export type Restriction = z.infer<typeof RestrictionSchema>;

export const RotationSchema = z
  .object({
    /**
     * Counted in wall-clock time of the schedule's zone, so hand-offs keep their local time across DST
     * (a shift that spans a change is an hour shorter or longer).
     */
    length: boundedDuration(HOUR_MS, 366 * DAY_MS),
    /** Local time of day of the first hand-off (and of every one when the length is whole days). */
    handoff: TimeOfDaySchema,
    /** The date the rotation begins (at `handoff`); before it this layer has no one. */
    start: DateSchema,
  })
  .strict();
export type Rotation = z.infer<typeof RotationSchema>;

export const LayerSchema = z
  .object({
    name: z.string().trim().min(1).max(100),
    rotation: RotationSchema,
    /** Take turns in this order, one per rotation period; a name may appear more than once. */
    members: z.array(Id).min(1).max(100),
    /** When given, the layer covers only these windows (e.g. business hours). */
    restrictions: z.array(RestrictionSchema).min(1).max(20).optional(),
  })
  .strict();
export type Layer = z.infer<typeof LayerSchema>;

export const ConfigOverrideSchema = z
  .object({
    person: Id,
    from: DateTimeSchema,
    to: DateTimeSchema,
  })
  .strict();

export const ScheduleSchema = z
  .object({
    id: Id,
    timeZone: TimeZoneSchema,
    /** Later layers win over earlier ones wherever they have someone. */
    layers: z.array(LayerSchema).min(1).max(20),
    /** Win over every layer; a later override wins over an earlier one. */
    overrides: z.array(ConfigOverrideSchema).max(500).default([]),
  })
  .strict();
export type Schedule = z.infer<typeof ScheduleSchema>;

export const EscalationTargetSchema = z
  .object({ person: Id.optional(), schedule: Id.optional() })
  .strict()
  .superRefine((t, ctx) => {
    if ((t.person === undefined) === (t.schedule === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'name exactly one of person or schedule, e.g. { schedule: orders-primary }' });
    }
  })
  .transform((t): EscalationTarget => (t.person !== undefined ? { person: t.person } : { schedule: t.schedule ?? '' }));
export type EscalationTarget = { person: string } | { schedule: string };

export const EscalationLevelSchema = z
  .object({
    targets: z.array(EscalationTargetSchema).min(1).max(20),
    /** How long this level has to acknowledge before the next level is paged. */
    delay: boundedDuration(0, DAY_MS),
  })
  .strict();
export type EscalationLevel = z.infer<typeof EscalationLevelSchema>;

export const EscalationPolicySchema = z
  .object({
    id: Id,
    levels: z.array(EscalationLevelSchema).min(1).max(20),
    /** Times the whole list of levels runs again after the last level's delay (0 = once through). */
    repeat: z.number().int().min(0).max(10).default(0),
    /** Paged once every level and repeat went unacknowledged. */
    fallback: EscalationTargetSchema.optional(),
  })
  .strict();
export type EscalationPolicy = z.infer<typeof EscalationPolicySchema>;

export const OnCallConfigSchema = z
  .object({
    people: z.array(PersonSchema).max(2000).default([]),
    schedules: z.array(ScheduleSchema).max(500).default([]),
    escalationPolicies: z.array(EscalationPolicySchema).max(500).default([]),
  })
  .strict();
export type OnCallConfig = z.output<typeof OnCallConfigSchema>;

export const EMPTY_ONCALL: OnCallConfig = { people: [], schedules: [], escalationPolicies: [] };

/** An override as the schedule functions take it: config ones, then API ones in the order they were made. */
export interface ScheduleOverride {
  /** API overrides have one; config overrides are `config:<index>`. */
  id?: string;
  person: string;
  /** ISO date-time; without an offset it is read in the schedule's time zone. */
  from: string;
  to: string;
}

/** Overrides made through the API, by schedule id. */
export type OverridesBySchedule = Readonly<Record<string, readonly ScheduleOverride[]>>;

// --- The escalation snapshot: what a page step pins when it starts (plain JSON, no Dates) ---------------

export const SnapshotContactSchema = z.object({
  channel: ChannelSchema,
  /** Email address, Slack member id, or what the webhook gateway is given. */
  to: z.string(),
  delayMs: z.number().int().min(0),
});
export type SnapshotContact = z.infer<typeof SnapshotContactSchema>;

export const SnapshotTargetSchema = z.object({
  personId: z.string(),
  name: z.string(),
  contacts: z.array(SnapshotContactSchema),
  /** The schedule the person was on call for; null when the policy names the person. */
  scheduleId: z.string().nullable(),
});
export type SnapshotTarget = z.infer<typeof SnapshotTargetSchema>;

export const EscalationSnapshotSchema = z.object({
  policyId: z.string(),
  levels: z.array(z.object({ delayMs: z.number().int().min(0), targets: z.array(SnapshotTargetSchema) })),
  repeat: z.number().int().min(0),
  fallback: SnapshotTargetSchema.nullable(),
  /** ISO-8601 UTC: the instant the schedules were read at. */
  resolvedAt: z.string(),
  /** Levels or a fallback that resolved to nobody (a schedule with a gap), for the timeline. */
  warnings: z.array(z.string()),
});
export type EscalationSnapshot = z.infer<typeof EscalationSnapshotSchema>;
