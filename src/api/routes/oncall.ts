import { createHash, randomUUID } from 'node:crypto';
import { Router } from 'express';
import type { Request, RequestHandler } from 'express';
import ical, { ICalCalendarMethod, ICalEventTransparency } from 'ical-generator';
import { z } from 'zod';
import type { OnCallConfig, Person, Schedule } from '../../domain/oncall';
import { resolveEscalation } from '../../oncall/escalation';
import { storedOverrides } from '../../oncall/overrides';
import { configOverrides, nextHandoffs, shifts, whoIsOnCall } from '../../oncall/schedule';
import type { Shift } from '../../oncall/schedule';
import type { TokenService } from '../../services/tokens';
import type { OnCallOverrideRecord, Store } from '../../store/store';
import { actorOf, requireRole } from '../auth';
import { HttpError } from '../http-error';
import { jsonBody } from '../json-body';

export interface OnCallRouteDeps {
  tokens: TokenService;
  store: Store;
  /** The current config/oncall.yaml; called per request, so a reloaded file is picked up. */
  oncall: () => OnCallConfig;
  now?: () => Date;
}

const DAY_MS = 86_400_000;
/** The calendar feed: a week back (so today's shift is whole) and two months ahead. */
const FEED_PAST_MS = 7 * DAY_MS;
const FEED_FUTURE_MS = 60 * DAY_MS;
/** API overrides that ended this long before a window can still decide where a shift in it starts. */
const OVERRIDE_LOOKBACK_MS = 370 * DAY_MS;
const MAX_OVERRIDE_MS = 366 * DAY_MS;

const Id = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'not an id (lowercase letters, digits and dashes)');
const Instant = z.iso.datetime({ offset: true }).transform((t) => new Date(t).toISOString());

const NowQuerySchema = z
  .object({
    /** Look at another instant than now (ISO-8601 with offset). */
    at: Instant.optional(),
    count: z.coerce.number().int().min(1).max(20).default(3),
  })
  .strict();
const PolicyQuerySchema = z.object({ at: Instant.optional() }).strict();
const OverrideListQuerySchema = z.object({ from: Instant.optional() }).strict();
/** Not strict: calendar apps and proxies append parameters of their own. */
const FeedQuerySchema = z.object({ token: z.string().max(512).optional(), person: Id.optional() });

const CreateOverrideSchema = z
  .object({
    person: Id,
    from: Instant,
    to: Instant,
    reason: z.string().trim().min(1).max(500).optional(),
  })
  .strict();

/**
 * Calendar apps cannot send headers, so the feed also takes `?token=`. Only a viewer token is accepted there:
 * a URL ends up in calendar settings, browser history and proxy logs, and a leaked feed URL must be able to
 * read the schedule and nothing more. Fireline's request log records `req.path`, never the query string.
 */
function feedAuth(tokens: TokenService): RequestHandler {
  const header = requireRole(tokens, 'viewer');
  return async (req, res, next) => {
    const token = typeof req.query.token === 'string' ? req.query.token : undefined;
    if (req.get('authorization') || token === undefined) return header(req, res, next);
    const record = await tokens.authenticate(token);
    if (!record) {
      return next(new HttpError(401, 'unauthorized', 'the token is not valid', undefined, { 'WWW-Authenticate': 'Bearer realm="fireline"' }));
    }
    if (record.role !== 'viewer') {
      return next(
        new HttpError(403, 'forbidden', 'a token in the URL must be a viewer token; make one with `fireline token create --role viewer --name calendar`'),
      );
    }
    req.auth = record;
    req.log = req.log.child({ tokenId: record.id });
    next();
  };
}

function personView(p: Person) {
  return { id: p.id, name: p.name, timeZone: p.timeZone };
}

function scheduleOf(config: OnCallConfig, id: unknown): Schedule {
  const schedule = config.schedules.find((s) => s.id === id);
  if (!schedule) throw new HttpError(404, 'not_found', `no schedule "${String(id).slice(0, 63)}" in config/oncall.yaml`);
  return schedule;
}

function fieldError(field: string, message: string): HttpError {
  return new HttpError(400, 'invalid_request', `${field}: ${message}`, { issues: [{ path: field, message }] });
}

function overrideView(record: OnCallOverrideRecord) {
  return { id: record.id, source: 'api' as const, person: record.personId, from: record.from, to: record.to, reason: record.reason, createdAt: record.createdAt, createdBy: record.createdBy };
}

/** Stable across fetches: the same shift (schedule, start, people) always has the same UID. */
function shiftUid(scheduleId: string, shift: Shift): string {
  const start = shift.start.toISOString().replace(/[-:]|\.\d{3}/g, '');
  const who = createHash('sha256').update(shift.people.map((p) => p.id).join(',')).digest('hex').slice(0, 12);
  return `oncall-${scheduleId}-${start}-${who}@fireline`;
}

function feed(schedule: Schedule, list: Shift[]): string {
  const calendar = ical({
    name: `On call: ${schedule.id}`,
    prodId: { company: 'Fireline', product: 'oncall', language: 'EN' },
    method: ICalCalendarMethod.PUBLISH,
    ttl: 60 * 60,
  });
  for (const shift of list) {
    const names = shift.people.map((p) => p.name).join(', ');
    const how = shift.source.kind === 'override' ? 'an override' : `layer "${shift.source.layer}"`;
    calendar.createEvent({
      id: shiftUid(schedule.id, shift),
      // UTC times: every calendar app shows them in its own zone, and no VTIMEZONE has to be right.
      start: shift.start,
      end: shift.end,
      summary: `On call: ${names} (${schedule.id})`,
      description: `${names} on call for schedule ${schedule.id} (${schedule.timeZone}), from ${how}.`,
      transparency: ICalEventTransparency.TRANSPARENT,
    });
  }
  // RFC 5545 ends every content line with CRLF, the last one too; ical-generator leaves the last one bare.
  const text = calendar.toString();
  return text.endsWith('\r\n') ? text : `${text}\r\n`;
}

/**
 * `GET /` who is on call per schedule now; `GET /policies/:id` the escalation snapshot now;
 * `GET /:schedule.ics` the calendar feed; `GET|POST /:schedule/overrides`, `DELETE /:schedule/overrides/:id`.
 */
export function oncallRoutes(deps: OnCallRouteDeps): Router {
  const r = Router();
  const now = deps.now ?? (() => new Date());
  const viewer = requireRole(deps.tokens, 'viewer');
  const admin = requireRole(deps.tokens, 'admin');

  r.get('/', viewer, async (req, res) => {
    const q = NowQuerySchema.parse(req.query);
    const at = q.at ? new Date(q.at) : now();
    const config = deps.oncall();
    const overrides = await storedOverrides(deps.store, new Date(at.getTime() - OVERRIDE_LOOKBACK_MS));
    const schedules = config.schedules.map((schedule) => {
      const extra = overrides[schedule.id] ?? [];
      const current = shifts(schedule, config.people, { from: at, to: new Date(at.getTime() + 1) }, extra)[0];
      return {
        id: schedule.id,
        timeZone: schedule.timeZone,
        onCall: whoIsOnCall(schedule, config.people, at, extra).map(personView),
        shift: current ? { start: current.start.toISOString(), end: current.end.toISOString(), source: current.source } : null,
        next: nextHandoffs(schedule, config.people, at, q.count, extra).map((h) => ({
          at: h.at.toISOString(),
          from: h.from.map(personView),
          to: h.to.map(personView),
        })),
      };
    });
    res.json({ at: at.toISOString(), schedules, policies: config.escalationPolicies.map((p) => p.id) });
  });

  r.get('/policies/:id', viewer, async (req, res) => {
    const q = PolicyQuerySchema.parse(req.query);
    const at = q.at ? new Date(q.at) : now();
    const config = deps.oncall();
    const policy = config.escalationPolicies.find((p) => p.id === req.params.id);
    if (!policy) throw new HttpError(404, 'not_found', `no escalation policy "${String(req.params.id).slice(0, 63)}" in config/oncall.yaml`);
    res.json(resolveEscalation(policy, config, at, await storedOverrides(deps.store, at)));
  });

  // Express 5 paths have no suffix syntax: take the segment and check `.ics` here.
  r.get('/:file', feedAuth(deps.tokens), async (req, res) => {
    const file = String(req.params.file);
    if (!file.endsWith('.ics')) throw new HttpError(404, 'not_found', `no route GET ${req.baseUrl}/${file.slice(0, 63)}`);
    const q = FeedQuerySchema.parse(req.query);
    const config = deps.oncall();
    const schedule = scheduleOf(config, file.slice(0, -'.ics'.length));
    const at = now().getTime();
    const window = { from: new Date(at - FEED_PAST_MS), to: new Date(at + FEED_FUTURE_MS) };
    const overrides = await storedOverrides(deps.store, new Date(window.from.getTime() - OVERRIDE_LOOKBACK_MS), schedule.id);
    const list = shifts(schedule, config.people, window, overrides[schedule.id] ?? []).filter(
      (s) => q.person === undefined || s.people.some((p) => p.id === q.person),
    );
    res
      .status(200)
      .set({
        'Content-Type': 'text/calendar; charset=utf-8',
        'Content-Disposition': `inline; filename="${schedule.id}.ics"`,
        'Cache-Control': 'private, no-cache',
        'Referrer-Policy': 'no-referrer',
      })
      .send(feed(schedule, list));
  });

  r.get('/:schedule/overrides', viewer, async (req, res) => {
    const q = OverrideListQuerySchema.parse(req.query);
    const config = deps.oncall();
    const schedule = scheduleOf(config, req.params.schedule);
    const from = q.from ?? now().toISOString();
    const fromMs = Date.parse(from);
    const fromConfig = configOverrides(schedule)
      .filter((o) => Date.parse(o.to) > fromMs)
      .map((o) => ({ ...o, source: 'config' as const }));
    const stored = await deps.store.listOnCallOverrides({ scheduleId: schedule.id, endsAfter: from, limit: 10_000 });
    res.json({ items: [...fromConfig, ...stored.map(overrideView)] });
  });

  r.post('/:schedule/overrides', admin, jsonBody(), async (req, res) => {
    const config = deps.oncall();
    const schedule = scheduleOf(config, req.params.schedule);
    const body = CreateOverrideSchema.parse(req.body ?? {});
    if (!config.people.some((p) => p.id === body.person)) throw fieldError('person', `no person "${body.person}" in config/oncall.yaml`);
    const from = Date.parse(body.from);
    const to = Date.parse(body.to);
    if (to <= from) throw fieldError('to', 'must be after from');
    if (to - from > MAX_OVERRIDE_MS) throw fieldError('to', 'an override may last at most 366 days');
    const at = now();
    if (to <= at.getTime()) throw fieldError('to', 'the override would be over already');
    const record: OnCallOverrideRecord = {
      id: randomUUID(),
      scheduleId: schedule.id,
      personId: body.person,
      from: body.from,
      to: body.to,
      reason: body.reason ?? null,
      createdAt: at.toISOString(),
      createdBy: actorOf(req),
    };
    await deps.store.insertOnCallOverride(record);
    await audit(deps.store, req, 'oncall.override.create', { scheduleId: schedule.id, overrideId: record.id, person: record.personId, from: record.from, to: record.to }, at);
    req.log.info({ scheduleId: schedule.id, overrideId: record.id }, 'on-call override created');
    res.status(201).location(`${req.baseUrl}/${schedule.id}/overrides/${record.id}`).json({ override: overrideView(record) });
  });

  r.delete('/:schedule/overrides/:id', admin, async (req, res) => {
    const config = deps.oncall();
    const schedule = scheduleOf(config, req.params.schedule);
    const id = String(req.params.id);
    if (id.startsWith('config:')) {
      throw new HttpError(409, 'conflict', `override ${id.slice(0, 40)} is defined in config/oncall.yaml; remove it there`);
    }
    const deleted = await deps.store.deleteOnCallOverride(schedule.id, id);
    if (!deleted) throw new HttpError(404, 'not_found', `no override "${id.slice(0, 63)}" on schedule ${schedule.id}`);
    await audit(deps.store, req, 'oncall.override.delete', { scheduleId: schedule.id, overrideId: id, person: deleted.personId, from: deleted.from, to: deleted.to }, now());
    req.log.info({ scheduleId: schedule.id, overrideId: id }, 'on-call override deleted');
    res.status(204).end();
  });

  return r;
}

async function audit(store: Store, req: Request, action: string, details: Record<string, unknown>, at: Date): Promise<void> {
  await store.recordAudit({
    id: randomUUID(),
    at: at.toISOString(),
    actor: actorOf(req),
    action,
    method: req.method,
    path: req.baseUrl + req.path,
    requestId: req.id,
    incidentId: null,
    details,
    outcome: 'ok',
  });
}
