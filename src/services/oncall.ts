import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { EscalationSnapshot, OnCallConfig, Person, Schedule } from '../domain/oncall';
import { resolveEscalation } from '../oncall/escalation';
import { storedOverrides } from '../oncall/overrides';
import { configOverrides, nextHandoffs, shifts, whoIsOnCall } from '../oncall/schedule';
import type { Shift } from '../oncall/schedule';
import type { AuditStore, OnCallOverrideRecord, OnCallStore } from '../store/store';
import { createAuditLog } from './audit';
import type { ActionContext } from './audit';
import { conflict, invalidField, notFound } from './errors';

export interface OnCallServiceDeps {
  store: AuditStore & OnCallStore;
  /** The current config/oncall.yaml; read per call, so a reloaded file is picked up. */
  oncall: () => OnCallConfig;
  now?: () => Date;
}

export const OnCallIdSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'not an id (lowercase letters, digits and dashes)');
/** An ISO-8601 instant with offset, stored as UTC. */
export const InstantSchema = z.iso.datetime({ offset: true }).transform((t) => new Date(t).toISOString());

const OverrideInputSchema = z
  .object({
    person: OnCallIdSchema,
    from: InstantSchema,
    to: InstantSchema,
    reason: z.string().trim().min(1).max(500).optional(),
  })
  .strict();

const DAY_MS = 86_400_000;
/** The calendar feed: a week back (so today's shift is whole) and two months ahead. */
const FEED_PAST_MS = 7 * DAY_MS;
const FEED_FUTURE_MS = 60 * DAY_MS;
/** API overrides that ended this long before a window can still decide where a shift in it starts. */
const OVERRIDE_LOOKBACK_MS = 370 * DAY_MS;
const MAX_OVERRIDE_MS = 366 * DAY_MS;

function personView(p: Person) {
  return { id: p.id, name: p.name, timeZone: p.timeZone };
}

function overrideView(record: OnCallOverrideRecord) {
  return {
    id: record.id,
    source: 'api' as const,
    person: record.personId,
    from: record.from,
    to: record.to,
    reason: record.reason,
    createdAt: record.createdAt,
    createdBy: record.createdBy,
  };
}

function scheduleOf(config: OnCallConfig, id: unknown): Schedule {
  const schedule = config.schedules.find((s) => s.id === id);
  if (!schedule) throw notFound(`no schedule "${String(id).slice(0, 63)}" in config/oncall.yaml`);
  return schedule;
}

/** Who is on call, escalation snapshots, the calendar feed's shifts, and the overrides admins make through the API. */
export function createOnCallService(deps: OnCallServiceDeps) {
  const now = deps.now ?? (() => new Date());
  const audit = createAuditLog(deps);
  const since = (at: Date) => new Date(at.getTime() - OVERRIDE_LOOKBACK_MS);

  return {
    /** Per schedule: who is on call at `at` (default now), their shift and the next `count` hand-offs. */
    async current(at: Date | undefined, count: number) {
      const instant = at ?? now();
      const config = deps.oncall();
      const overrides = await storedOverrides(deps.store, since(instant));
      const schedules = config.schedules.map((schedule) => {
        const extra = overrides[schedule.id] ?? [];
        const shift = shifts(schedule, config.people, { from: instant, to: new Date(instant.getTime() + 1) }, extra)[0];
        return {
          id: schedule.id,
          timeZone: schedule.timeZone,
          onCall: whoIsOnCall(schedule, config.people, instant, extra).map(personView),
          shift: shift ? { start: shift.start.toISOString(), end: shift.end.toISOString(), source: shift.source } : null,
          next: nextHandoffs(schedule, config.people, instant, count, extra).map((h) => ({
            at: h.at.toISOString(),
            from: h.from.map(personView),
            to: h.to.map(personView),
          })),
        };
      });
      return { at: instant.toISOString(), schedules, policies: config.escalationPolicies.map((p) => p.id) };
    },

    async policy(id: string, at: Date | undefined): Promise<EscalationSnapshot> {
      const instant = at ?? now();
      const config = deps.oncall();
      const policy = config.escalationPolicies.find((p) => p.id === id);
      if (!policy) throw notFound(`no escalation policy "${id.slice(0, 63)}" in config/oncall.yaml`);
      return resolveEscalation(policy, config, instant, await storedOverrides(deps.store, instant));
    },

    /** The shifts of the calendar feed's window around now, only those of `person` when given. */
    async feed(scheduleId: string, person: string | undefined): Promise<{ schedule: Schedule; shifts: Shift[] }> {
      const config = deps.oncall();
      const schedule = scheduleOf(config, scheduleId);
      const at = now().getTime();
      const window = { from: new Date(at - FEED_PAST_MS), to: new Date(at + FEED_FUTURE_MS) };
      const overrides = await storedOverrides(deps.store, since(window.from), schedule.id);
      const list = shifts(schedule, config.people, window, overrides[schedule.id] ?? []).filter(
        (s) => person === undefined || s.people.some((p) => p.id === person),
      );
      return { schedule, shifts: list };
    },

    /** Overrides from the config and from the API that end after `from` (default now). */
    async listOverrides(scheduleId: string, from: string | undefined) {
      const schedule = scheduleOf(deps.oncall(), scheduleId);
      const after = from ?? now().toISOString();
      const afterMs = Date.parse(after);
      const fromConfig = configOverrides(schedule)
        .filter((o) => Date.parse(o.to) > afterMs)
        .map((o) => ({ ...o, source: 'config' as const }));
      const stored = await deps.store.listOnCallOverrides({ scheduleId: schedule.id, endsAfter: after, limit: 10_000 });
      return [...fromConfig, ...stored.map(overrideView)];
    },

    /** `given` is checked here, after the schedule: an unknown schedule is a 404 whatever the body says. */
    async createOverride(scheduleId: string, given: unknown, ctx: ActionContext) {
      const config = deps.oncall();
      const schedule = scheduleOf(config, scheduleId);
      const input = OverrideInputSchema.parse(given);
      if (!config.people.some((p) => p.id === input.person))
        throw invalidField('person', `no person "${input.person}" in config/oncall.yaml`);
      const from = Date.parse(input.from);
      const to = Date.parse(input.to);
      if (to <= from) throw invalidField('to', 'must be after from');
      if (to - from > MAX_OVERRIDE_MS) throw invalidField('to', 'an override may last at most 366 days');
      const at = now();
      if (to <= at.getTime()) throw invalidField('to', 'the override would be over already');
      const record: OnCallOverrideRecord = {
        id: randomUUID(),
        scheduleId: schedule.id,
        personId: input.person,
        from: input.from,
        to: input.to,
        reason: input.reason ?? null,
        createdAt: at.toISOString(),
        createdBy: ctx.actor,
      };
      await deps.store.insertOnCallOverride(record);
      await audit.record(ctx, {
        action: 'oncall.override.create',
        details: { scheduleId: schedule.id, overrideId: record.id, person: record.personId, from: record.from, to: record.to },
      });
      return overrideView(record);
    },

    /** Overrides from config/oncall.yaml (`config:` ids) are changed there, not here. */
    async deleteOverride(scheduleId: string, id: string, ctx: ActionContext): Promise<void> {
      const schedule = scheduleOf(deps.oncall(), scheduleId);
      if (id.startsWith('config:')) throw conflict(`override ${id.slice(0, 40)} is defined in config/oncall.yaml; remove it there`);
      const deleted = await deps.store.deleteOnCallOverride(schedule.id, id);
      if (!deleted) throw notFound(`no override "${id.slice(0, 63)}" on schedule ${schedule.id}`);
      await audit.record(ctx, {
        action: 'oncall.override.delete',
        details: { scheduleId: schedule.id, overrideId: id, person: deleted.personId, from: deleted.from, to: deleted.to },
      });
    },
  };
}

export type OnCallService = ReturnType<typeof createOnCallService>;
