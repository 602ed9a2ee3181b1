// On-call over real HTTP: who is on call, escalation snapshots, the iCalendar feed and overrides (admin, audited).
import { Writable } from 'node:stream';
import express from 'express';
import { createApp } from '../../src/api/app';
import { errorHandler, notFoundHandler } from '../../src/api/errors';
import { oncallRoutes } from '../../src/api/routes/oncall';
import type { OnCallConfig } from '../../src/domain/oncall';
import type { Role } from '../../src/domain/roles';
import { createLogger } from '../../src/logger';
import { formatOnCallProblem, parseOnCall } from '../../src/oncall/load';
import type { IncidentService } from '../../src/services/incidents';
import { createOnCallService } from '../../src/services/oncall';
import { createTokenService } from '../../src/services/tokens';
import type { Store } from '../../src/store/store';
import { TOKEN_NAMES, expectError, expectFieldError, listen, send } from '../support/api';
import type { ApiResponse, RequestOptions } from '../support/api';
import { openTestStore, tempDir } from '../support/temporal';
import { cliActionContext } from '../../src/services/audit';

const YAML = `
people:
  - { id: ana, name: Ana Schmidt, email: ana@example.com, slack: U01ANA, timeZone: Europe/Berlin }
  - { id: ben, name: Ben Okafor, slack: U01BEN, webhook: "+4915100000002", timeZone: Europe/Berlin }
  - id: zoe
    name: "Zoë Þórdís Ölafsdóttir-Grünewald, Ærøskøbing, 東京オフィス (weekend and holiday cover, second line)"
    email: zoe@example.com
    timeZone: Asia/Tokyo
schedules:
  - id: primary
    timeZone: Europe/Berlin
    layers:
      - { name: weekly, rotation: { length: 1w, handoff: "09:00", start: 2025-01-06 }, members: [ana, ben] }
      - name: weekends
        rotation: { length: 1w, handoff: "00:00", start: 2025-01-04 }
        members: [zoe]
        restrictions: [{ days: [sat, sun], from: "10:00", to: "18:00" }]
    overrides:
      - { person: zoe, from: "2025-03-26T09:00", to: "2025-03-26T12:00" }
  - id: empty-until-2099
    timeZone: UTC
    layers:
      - { name: later, rotation: { length: 1d, handoff: "00:00", start: 2099-01-01 }, members: [ana] }
escalationPolicies:
  - id: main
    levels:
      - { targets: [{ schedule: primary }], delay: 5m }
      - { targets: [{ person: ana }], delay: 10m }
    repeat: 1
    fallback: { schedule: empty-until-2099 }
`;

function parseConfig(text: string): OnCallConfig {
  const result = parseOnCall(text, 'oncall.yaml');
  if (!result.ok) throw new Error(result.problems.map(formatOnCallProblem).join('\n'));
  return result.config;
}

interface Harness {
  url: string;
  store: Store;
  tokens: Record<Role, string>;
  tokenIds: Record<Role, string>;
  logs: string[];
  request<T = unknown>(method: string, urlPath: string, opts?: RequestOptions): Promise<ApiResponse<T>>;
  stop(): Promise<void>;
}

let h: Harness;
let config: OnCallConfig;

/**
 * The app's clock: a Tuesday in the weekly layer, so "N hours from now" lands on known layers whatever day the
 * suite runs (on the wall clock, 48 hours from a Thursday is in the weekend window).
 */
const NOW = new Date('2025-04-01T10:00:00Z');

beforeAll(async () => {
  const store = await openTestStore(tempDir());
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const logger = createLogger({ level: 'debug', destination });
  const tokenService = createTokenService({ store });
  const tokens = {} as Record<Role, string>;
  const tokenIds = {} as Record<Role, string>;
  for (const role of Object.keys(TOKEN_NAMES) as Role[]) {
    const created = await tokenService.create(TOKEN_NAMES[role], role, cliActionContext('tests', 'token create'));
    tokens[role] = created.token;
    tokenIds[role] = created.record.id;
  }
  config = parseConfig(YAML);
  // The on-call routes use none of the incident machinery; the rest of the app is wired as usual.
  const app = createApp({
    logger,
    store,
    tokens: tokenService,
    incidents: {} as IncidentService,
    runbooks: { list: async () => [], get: async () => undefined },
    checkTemporal: async () => undefined,
    oncall: () => config,
    now: () => NOW,
  });
  const server = await listen(app);
  h = {
    url: server.url,
    store,
    tokens,
    tokenIds,
    logs,
    request: (method, urlPath, opts) => send(server.url, tokens, method, urlPath, opts),
    async stop() {
      await server.close();
      await store.close();
    },
  };
});
afterAll(async () => {
  await h?.stop();
});

interface OnCallView {
  at: string;
  schedules: {
    id: string;
    timeZone: string;
    onCall: { id: string; name: string; timeZone: string }[];
    shift: { start: string; end: string; source: unknown } | null;
    next: { at: string; from: { id: string }[]; to: { id: string }[] }[];
  }[];
  policies: string[];
}

describe('GET /api/v1/oncall', () => {
  test('needs a token; any role may read', async () => {
    expectError(await h.request('GET', '/api/v1/oncall'), 401, 'unauthorized');
    for (const role of ['viewer', 'responder', 'commander', 'admin'] as const) {
      expect((await h.request('GET', '/api/v1/oncall', { as: role })).status).toBe(200);
    }
  });

  test('per schedule: who is on call at the instant, the shift, and the next hand-offs', async () => {
    // Wednesday 2025-03-26 10:30Z: the config override puts Zoë on until 11:00Z, then Ben's week resumes.
    const res = await h.request<OnCallView>('GET', '/api/v1/oncall?at=2025-03-26T11:30:00%2B01:00&count=2', { as: 'viewer' });
    expect(res.status).toBe(200);
    expect(res.body.at).toBe('2025-03-26T10:30:00.000Z');
    expect(res.body.policies).toEqual(['main']);
    const [primary, later] = res.body.schedules;
    expect(primary).toEqual({
      id: 'primary',
      timeZone: 'Europe/Berlin',
      onCall: [{ id: 'zoe', name: expect.stringContaining('Zoë'), timeZone: 'Asia/Tokyo' }],
      shift: { start: '2025-03-26T08:00:00.000Z', end: '2025-03-26T11:00:00.000Z', source: { kind: 'override', overrideId: 'config:0' } },
      next: [
        { at: '2025-03-26T11:00:00.000Z', from: [expect.objectContaining({ id: 'zoe' })], to: [expect.objectContaining({ id: 'ben' })] },
        // Saturday 10:00 CET: the weekend layer.
        { at: '2025-03-29T09:00:00.000Z', from: [expect.objectContaining({ id: 'ben' })], to: [expect.objectContaining({ id: 'zoe' })] },
      ],
    });
    expect(later).toMatchObject({ id: 'empty-until-2099', onCall: [], shift: null });
    // Contact addresses are not part of this overview.
    expect(res.text).not.toContain('ana@example.com');
  });

  test('bad query parameters are 400s naming the field', async () => {
    expectFieldError(await h.request('GET', '/api/v1/oncall?at=yesterday', { as: 'viewer' }), 'at');
    expectFieldError(await h.request('GET', '/api/v1/oncall?count=0', { as: 'viewer' }), 'count');
    expectError(await h.request('GET', '/api/v1/oncall?token=abc', { as: 'viewer' }), 400, 'invalid_request');
  });
});

describe('GET /api/v1/oncall/policies/:id', () => {
  test('the escalation snapshot at that instant', async () => {
    const res = await h.request<Record<string, unknown>>('GET', '/api/v1/oncall/policies/main?at=2025-03-27T10:00:00Z', { as: 'viewer' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      policyId: 'main',
      levels: [
        {
          delayMs: 300_000,
          targets: [
            {
              personId: 'ben',
              name: 'Ben Okafor',
              contacts: [
                { channel: 'slack', to: 'U01BEN', delayMs: 0 },
                { channel: 'webhook', to: '+4915100000002', delayMs: 0 },
              ],
              scheduleId: 'primary',
            },
          ],
        },
        {
          delayMs: 600_000,
          targets: [
            {
              personId: 'ana',
              name: 'Ana Schmidt',
              contacts: [
                { channel: 'slack', to: 'U01ANA', delayMs: 0 },
                { channel: 'email', to: 'ana@example.com', delayMs: 0 },
              ],
              scheduleId: null,
            },
          ],
        },
      ],
      repeat: 1,
      fallback: null,
      resolvedAt: '2025-03-27T10:00:00.000Z',
      warnings: ['fallback: nobody is on call in schedule "empty-until-2099"'],
    });
  });

  test('404 for an unknown policy; 401 without a token', async () => {
    expectError(await h.request('GET', '/api/v1/oncall/policies/nope', { as: 'viewer' }), 404, 'not_found');
    expectError(await h.request('GET', '/api/v1/oncall/policies/main'), 401, 'unauthorized');
  });
});

// --- iCalendar ---------------------------------------------------------------------------------------------

interface VEvent {
  [property: string]: string;
}

/** RFC 5545 reading: CRLF line ends, lines of at most 75 octets, folded lines unfolded, one map per VEVENT. */
function parseCalendar(text: string): { events: VEvent[]; properties: Record<string, string> } {
  expect(text.endsWith('\r\n')).toBe(true);
  expect(text.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
  const physical = text.slice(0, -2).split('\r\n');
  for (const line of physical) expect(Buffer.byteLength(line, 'utf8')).toBeLessThanOrEqual(75);
  const lines: string[] = [];
  for (const line of physical) {
    if (line.startsWith(' ') || line.startsWith('\t')) lines[lines.length - 1] += line.slice(1);
    else lines.push(line);
  }
  expect(lines[0]).toBe('BEGIN:VCALENDAR');
  expect(lines[lines.length - 1]).toBe('END:VCALENDAR');
  const events: VEvent[] = [];
  const properties: Record<string, string> = {};
  let current: VEvent | undefined;
  for (const line of lines) {
    if (line === 'BEGIN:VEVENT') current = {};
    else if (line === 'END:VEVENT') {
      events.push(current!);
      current = undefined;
    } else {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).split(';')[0]!;
      (current ?? properties)[name] = line.slice(colon + 1);
    }
  }
  return { events, properties };
}

const UTC_STAMP = /^\d{8}T\d{6}Z$/;

function stampToMs(stamp: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(stamp)!;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

describe('GET /api/v1/oncall/:schedule.ics', () => {
  test('a calendar apps accept: CRLF, folded lines ≤ 75 octets, every VEVENT with DTSTART/DTEND/UID/SUMMARY', async () => {
    const res = await h.request('GET', '/api/v1/oncall/primary.ics', { as: 'viewer' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/calendar; charset=utf-8');
    const { events, properties } = parseCalendar(res.text);
    expect(properties).toMatchObject({ VERSION: '2.0', METHOD: 'PUBLISH' });
    expect(properties.PRODID).toContain('Fireline');
    expect(properties['X-WR-CALNAME']).toBe('On call: primary');
    // A week back and two months ahead: two shifts a week at least.
    expect(events.length).toBeGreaterThan(15);
    for (const e of events) {
      for (const name of ['DTSTART', 'DTEND', 'UID', 'SUMMARY', 'DTSTAMP']) expect(e).toHaveProperty(name);
      expect(e.DTSTART).toMatch(UTC_STAMP);
      expect(e.DTEND).toMatch(UTC_STAMP);
      expect(stampToMs(e.DTEND!)).toBeGreaterThan(stampToMs(e.DTSTART!));
      expect(e.SUMMARY).toMatch(/^On call: .+ \(primary\)$/);
      expect(e.TRANSP).toBe('TRANSPARENT');
    }
    expect(new Set(events.map((e) => e.UID)).size).toBe(events.length);
    // The long non-ASCII name had to be folded, and survives unfolding intact.
    expect(res.text).toMatch(/\r\n /);
    const text = (value: string) => value.replace(/\\([,;\\])/g, '$1').replace(/\\[nN]/g, '\n');
    expect(events.some((e) => e.SUMMARY!.includes('Ölafsdóttir-Grünewald\\, Ærøskøbing\\, 東京オフィス'))).toBe(true);
    expect(events.some((e) => text(e.SUMMARY!).includes('Ölafsdóttir-Grünewald, Ærøskøbing, 東京オフィス'))).toBe(true);
    // Shifts cover the app's now.
    const now = NOW.getTime();
    expect(events.some((e) => stampToMs(e.DTSTART!) <= now && now < stampToMs(e.DTEND!))).toBe(true);
  });

  test('UIDs are stable from one fetch to the next', async () => {
    const first = parseCalendar((await h.request('GET', '/api/v1/oncall/primary.ics', { as: 'viewer' })).text).events;
    const second = parseCalendar((await h.request('GET', '/api/v1/oncall/primary.ics', { as: 'viewer' })).text).events;
    expect(second.map((e) => `${e.UID} ${e.DTSTART} ${e.DTEND}`)).toEqual(first.map((e) => `${e.UID} ${e.DTSTART} ${e.DTEND}`));
  });

  test('?token= works for calendar apps, only with a viewer token, and never reaches the logs', async () => {
    const ok = await h.request('GET', `/api/v1/oncall/primary.ics?token=${encodeURIComponent(h.tokens.viewer)}`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('referrer-policy')).toBe('no-referrer');
    const admin = expectError(
      await h.request('GET', `/api/v1/oncall/primary.ics?token=${encodeURIComponent(h.tokens.admin)}`),
      403,
      'forbidden',
    );
    expect(admin.message).toContain('viewer token');
    const bad = await h.request('GET', '/api/v1/oncall/primary.ics?token=flt_guess');
    expectError(bad, 401, 'unauthorized');
    expect(bad.text).not.toContain('flt_guess');
    // Only this route reads it: elsewhere a token in the URL is not a credential.
    expectError(await h.request('GET', `/api/v1/oncall?token=${encodeURIComponent(h.tokens.viewer)}`), 401, 'unauthorized');
    expectError(await h.request('GET', `/api/v1/incidents?token=${encodeURIComponent(h.tokens.viewer)}`), 401, 'unauthorized');

    const logged = h.logs.join('');
    expect(logged).toContain('/oncall/primary.ics');
    for (const token of Object.values(h.tokens)) expect(logged).not.toContain(token);
    expect(logged).not.toContain('flt_guess');
  });

  test("?person= keeps one person's shifts", async () => {
    const res = await h.request('GET', '/api/v1/oncall/primary.ics?person=ana', { as: 'viewer' });
    const { events } = parseCalendar(res.text);
    expect(events.length).toBeGreaterThan(0);
    for (const e of events) expect(e.SUMMARY).toBe('On call: Ana Schmidt (primary)');
  });

  test('404 for an unknown schedule or without the .ics suffix; 401 without a token', async () => {
    expectError(await h.request('GET', '/api/v1/oncall/nope.ics', { as: 'viewer' }), 404, 'not_found');
    expectError(await h.request('GET', '/api/v1/oncall/primary', { as: 'viewer' }), 404, 'not_found');
    expectError(await h.request('GET', '/api/v1/oncall/primary.ical', { as: 'viewer' }), 404, 'not_found');
    expectError(await h.request('GET', '/api/v1/oncall/primary.ics'), 401, 'unauthorized');
  });

  test('hand-offs at 09:00 Berlin time appear at 08:00Z in winter and 07:00Z in summer', async () => {
    // The feed's window follows the clock: this one runs the router alone at an instant in that week.
    const app = express();
    app.use((req, _res, next) => {
      req.id = 'test';
      req.log = createLogger({ level: 'silent' });
      next();
    });
    const tokenService = createTokenService({ store: h.store });
    app.use(
      '/oncall',
      oncallRoutes({
        tokens: tokenService,
        oncall: createOnCallService({ store: h.store, oncall: () => config, now: () => new Date('2025-03-28T12:00:00Z') }),
      }),
    );
    app.use(notFoundHandler);
    app.use(errorHandler);
    const server = await listen(app);
    try {
      const res = await send(server.url, h.tokens, 'GET', '/oncall/primary.ics?person=ben', { as: 'viewer' });
      const { events } = parseCalendar(res.text);
      const weekly = events.map((e) => `${e.DTSTART}–${e.DTEND}`).filter((s) => s.startsWith('2025033') || s.startsWith('2025032'));
      // Ben's week from Monday 24 March: cut by the Saturday and Sunday weekend windows and the Wednesday override.
      expect(weekly.slice(0, 4)).toEqual([
        '20250324T080000Z–20250326T080000Z',
        '20250326T110000Z–20250329T090000Z',
        '20250329T170000Z–20250330T080000Z', // Sunday 10:00 is CEST already
        '20250330T160000Z–20250331T070000Z', // Monday 09:00 CEST
      ]);
      expect(events.find((e) => e.DTSTART === '20250324T080000Z')!.UID).toMatch(/^oncall-primary-20250324T080000Z-[0-9a-f]{12}@fireline$/);
    } finally {
      await server.close();
    }
  });
});

// --- Overrides -----------------------------------------------------------------------------------------------

interface OverrideView {
  id: string;
  source: 'api' | 'config';
  person: string;
  from: string;
  to: string;
  reason?: string | null;
}

describe('overrides through the API', () => {
  const hour = 3_600_000;
  const inFuture = (hours: number) => new Date(NOW.getTime() + hours * hour).toISOString();

  test('only an admin may create or delete; every role may list', async () => {
    const body = { person: 'ana', from: inFuture(24), to: inFuture(30) };
    for (const role of ['viewer', 'responder', 'commander'] as const) {
      const error = expectError(await h.request('POST', '/api/v1/oncall/primary/overrides', { as: role, body }), 403, 'forbidden');
      expect(error.message).toContain('admin');
      expectError(await h.request('DELETE', '/api/v1/oncall/primary/overrides/anything', { as: role }), 403, 'forbidden');
      expect((await h.request('GET', '/api/v1/oncall/primary/overrides', { as: role })).status).toBe(200);
    }
    expectError(await h.request('POST', '/api/v1/oncall/primary/overrides', { body }), 401, 'unauthorized');
  });

  test('create → wins over the layers everywhere (now, hand-offs, policies, the feed) → delete; both audited', async () => {
    const from = inFuture(48);
    const to = inFuture(52);
    const created = await h.request<{ override: OverrideView }>('POST', '/api/v1/oncall/primary/overrides', {
      as: 'admin',
      body: { person: 'ana', from, to, reason: 'swap with Ben' },
    });
    expect(created.status).toBe(201);
    const override = created.body.override;
    expect(override).toMatchObject({ source: 'api', person: 'ana', from, to, reason: 'swap with Ben' });
    expect(created.headers.get('location')).toBe(`/api/v1/oncall/primary/overrides/${override.id}`);

    const during = new Date(Date.parse(from) + 2 * hour).toISOString();
    const now = await h.request<OnCallView>('GET', `/api/v1/oncall?at=${encodeURIComponent(during)}`, { as: 'viewer' });
    const primary = now.body.schedules.find((s) => s.id === 'primary')!;
    expect(primary.onCall.map((p) => p.id)).toEqual(['ana']);
    expect(primary.shift).toEqual({ start: from, end: to, source: { kind: 'override', overrideId: override.id } });
    const policy = await h.request<{ levels: { targets: { personId: string }[] }[] }>(
      'GET',
      `/api/v1/oncall/policies/main?at=${encodeURIComponent(during)}`,
      { as: 'viewer' },
    );
    expect(policy.body.levels[0]!.targets.map((t) => t.personId)).toEqual(['ana']);
    const feed = parseCalendar((await h.request('GET', '/api/v1/oncall/primary.ics', { as: 'viewer' })).text).events;
    const stamp = (iso: string) => iso.replace(/[-:]|\.\d{3}/g, '');
    expect(feed.find((e) => e.DTSTART === stamp(from))).toMatchObject({ DTEND: stamp(to), SUMMARY: 'On call: Ana Schmidt (primary)' });

    const listed = await h.request<{ items: OverrideView[] }>('GET', '/api/v1/oncall/primary/overrides?from=2025-01-01T00:00:00Z', {
      as: 'viewer',
    });
    expect(listed.body.items).toEqual([
      { id: 'config:0', source: 'config', person: 'zoe', from: '2025-03-26T08:00:00.000Z', to: '2025-03-26T11:00:00.000Z' },
      expect.objectContaining({
        id: override.id,
        source: 'api',
        person: 'ana',
        createdBy: { id: `token:${h.tokenIds.admin}`, name: TOKEN_NAMES.admin, role: 'admin' },
      }),
    ]);

    expect((await h.request('DELETE', `/api/v1/oncall/primary/overrides/${override.id}`, { as: 'admin' })).status).toBe(204);
    expectError(await h.request('DELETE', `/api/v1/oncall/primary/overrides/${override.id}`, { as: 'admin' }), 404, 'not_found');
    const after = await h.request<OnCallView>('GET', `/api/v1/oncall?at=${encodeURIComponent(during)}`, { as: 'viewer' });
    expect(after.body.schedules.find((s) => s.id === 'primary')!.shift?.source).toEqual({ kind: 'layer', layer: 'weekly' });

    const audit = (await h.store.listAudit({ limit: 50 })).filter((e) => e.action.startsWith('oncall.override.'));
    expect(audit.map((e) => e.action).sort()).toEqual(['oncall.override.create', 'oncall.override.delete']);
    for (const entry of audit) {
      expect(entry).toMatchObject({
        actor: { id: `token:${h.tokenIds.admin}`, role: 'admin' },
        incidentId: null,
        outcome: 'ok',
        details: { scheduleId: 'primary', overrideId: override.id, person: 'ana', from, to },
      });
      expect(entry.path).toBe(
        entry.action.endsWith('create') ? '/api/v1/oncall/primary/overrides' : `/api/v1/oncall/primary/overrides/${override.id}`,
      );
    }
  });

  test('bad overrides are refused, naming the field', async () => {
    const post = (body: unknown, schedule = 'primary') => h.request('POST', `/api/v1/oncall/${schedule}/overrides`, { as: 'admin', body });
    expectFieldError(await post({ person: 'nobody', from: inFuture(1), to: inFuture(2) }), 'person');
    expectFieldError(await post({ person: 'ana', from: inFuture(2), to: inFuture(1) }), 'to');
    expectFieldError(await post({ person: 'ana', from: '2020-01-01T00:00:00Z', to: '2020-01-02T00:00:00Z' }), 'to');
    expectFieldError(await post({ person: 'ana', from: inFuture(1), to: inFuture(24 * 400) }), 'to');
    expectFieldError(await post({ person: 'ana', from: 'tomorrow', to: inFuture(2) }), 'from');
    expectFieldError(await post({ person: 'ana', from: inFuture(1), to: inFuture(2), extra: 1 }), 'extra');
    expectError(await post({ person: 'ana', from: inFuture(1), to: inFuture(2) }, 'nope'), 404, 'not_found');
    expectError(await h.request('DELETE', '/api/v1/oncall/primary/overrides/config:0', { as: 'admin' }), 409, 'conflict');
    const refused = (await h.store.listAudit({ limit: 50 })).filter(
      (e) => e.action === 'oncall.override.create' && e.details.person === 'nobody',
    );
    expect(refused).toEqual([]);
  });
});
