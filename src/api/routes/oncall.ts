import { createHash } from 'node:crypto';
import { Router } from 'express';
import type { RequestHandler } from 'express';
import ical, { ICalCalendarMethod, ICalEventTransparency } from 'ical-generator';
import { z } from 'zod';
import type { Schedule } from '../../domain/oncall';
import type { Shift } from '../../oncall/schedule';
import { InstantSchema, OnCallIdSchema } from '../../services/oncall';
import type { OnCallService } from '../../services/oncall';
import { tokenPrincipal } from '../../services/sessions';
import type { TokenService } from '../../services/tokens';
import { actionContextOf, requireAccess } from '../auth';
import { HttpError } from '../http-error';
import { jsonBody } from '../json-body';

const NowQuerySchema = z
  .object({
    /** Look at another instant than now (ISO-8601 with offset). */
    at: InstantSchema.optional(),
    count: z.coerce.number().int().min(1).max(20).default(3),
  })
  .strict();
const PolicyQuerySchema = z.object({ at: InstantSchema.optional() }).strict();
const OverrideListQuerySchema = z.object({ from: InstantSchema.optional() }).strict();
/** Not strict: calendar apps and proxies append parameters of their own. */
const FeedQuerySchema = z.object({ token: z.string().max(512).optional(), person: OnCallIdSchema.optional() });

/**
 * Calendar apps cannot send headers, so the feed also takes `?token=`. Only a viewer token is accepted there:
 * a URL ends up in calendar settings, browser history and proxy logs, and a leaked feed URL must be able to
 * read the schedule and nothing more. Fireline's request log records `req.path`, never the query string.
 */
function feedAuth(tokens: TokenService): RequestHandler {
  const header = requireAccess(tokens, 'oncall.read');
  return async (req, res, next) => {
    const token = typeof req.query.token === 'string' ? req.query.token : undefined;
    if (req.get('authorization') || token === undefined) return header(req, res, next);
    const record = await tokens.authenticate(token);
    if (!record) {
      return next(
        new HttpError(401, 'unauthorized', 'the token is not valid', undefined, { 'WWW-Authenticate': 'Bearer realm="fireline"' }),
      );
    }
    if (record.role !== 'viewer') {
      return next(
        new HttpError(
          403,
          'forbidden',
          'a token in the URL must be a viewer token; make one with `fireline token create --role viewer --name calendar`',
        ),
      );
    }
    req.auth = record;
    req.principal = tokenPrincipal(record);
    req.log = req.log.child({ tokenId: record.id });
    next();
  };
}

/** Stable across fetches: the same shift (schedule, start, people) always has the same UID. */
function shiftUid(scheduleId: string, shift: Shift): string {
  const start = shift.start.toISOString().replace(/[-:]|\.\d{3}/g, '');
  const who = createHash('sha256')
    .update(shift.people.map((p) => p.id).join(','))
    .digest('hex')
    .slice(0, 12);
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
export function oncallRoutes(deps: { tokens: TokenService; oncall: OnCallService }): Router {
  const r = Router();
  const read = requireAccess(deps.tokens, 'oncall.read');

  r.get('/', read, async (req, res) => {
    const q = NowQuerySchema.parse(req.query);
    res.json(await deps.oncall.current(q.at ? new Date(q.at) : undefined, q.count));
  });

  r.get('/policies/:id', read, async (req, res) => {
    const q = PolicyQuerySchema.parse(req.query);
    res.json(await deps.oncall.policy(String(req.params.id), q.at ? new Date(q.at) : undefined));
  });

  // Express 5 paths have no suffix syntax: take the segment and check `.ics` here.
  r.get('/:file', feedAuth(deps.tokens), async (req, res) => {
    const file = String(req.params.file);
    if (!file.endsWith('.ics')) throw new HttpError(404, 'not_found', `no route GET ${req.baseUrl}/${file.slice(0, 63)}`);
    const q = FeedQuerySchema.parse(req.query);
    const { schedule, shifts } = await deps.oncall.feed(file.slice(0, -'.ics'.length), q.person);
    res
      .status(200)
      .set({
        'Content-Type': 'text/calendar; charset=utf-8',
        'Content-Disposition': `inline; filename="${schedule.id}.ics"`,
        'Cache-Control': 'private, no-cache',
        'Referrer-Policy': 'no-referrer',
      })
      .send(feed(schedule, shifts));
  });

  r.get('/:schedule/overrides', read, async (req, res) => {
    const q = OverrideListQuerySchema.parse(req.query);
    res.json({ items: await deps.oncall.listOverrides(String(req.params.schedule), q.from) });
  });

  r.post('/:schedule/overrides', requireAccess(deps.tokens, 'oncall.override.create'), jsonBody(), async (req, res) => {
    const scheduleId = String(req.params.schedule);
    const override = await deps.oncall.createOverride(scheduleId, req.body ?? {}, actionContextOf(req));
    req.log.info({ scheduleId, overrideId: override.id }, 'on-call override created');
    res.status(201).location(`${req.baseUrl}/${scheduleId}/overrides/${override.id}`).json({ override });
  });

  r.delete('/:schedule/overrides/:id', requireAccess(deps.tokens, 'oncall.override.delete'), async (req, res) => {
    const scheduleId = String(req.params.schedule);
    const id = String(req.params.id);
    await deps.oncall.deleteOverride(scheduleId, id, actionContextOf(req));
    req.log.info({ scheduleId, overrideId: id }, 'on-call override deleted');
    res.status(204).end();
  });

  return r;
}
