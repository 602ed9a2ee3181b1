import path from 'node:path';
import { EscalationSnapshotSchema } from '../../src/domain/oncall';
import type { OnCallConfig } from '../../src/domain/oncall';
import { UnknownPolicyError, resolveEscalation } from '../../src/oncall/escalation';
import { formatOnCallProblem, parseOnCall } from '../../src/oncall/load';
import { snapshotEscalation, storedOverrides } from '../../src/oncall/overrides';
import { openTestStore, tempDir } from '../support/temporal';

const YAML = `
people:
  - id: ana
    name: Ana
    email: ana@example.com
    slack: U01ANA
    webhook: "+4915100000001"
    timeZone: Europe/Berlin
    contact:
      - { channel: webhook, delay: 5m }
      - { channel: slack, delay: 0m }
      - { channel: email, delay: 1m }
  - { id: ben, name: Ben, slack: U01BEN, timeZone: Europe/Berlin }
  - { id: cai, name: Cai, email: cai@example.com, timeZone: Australia/Sydney }
  - { id: max, name: Max the manager, email: max@example.com, timeZone: Europe/Berlin }
schedules:
  - id: primary
    timeZone: Europe/Berlin
    layers:
      - { name: weekly, rotation: { length: 1w, handoff: "09:00", start: 2025-03-17 }, members: [ana, ben] }
  - id: office
    timeZone: Europe/Berlin
    layers:
      - name: business-hours
        rotation: { length: 1w, handoff: "09:00", start: 2025-03-17 }
        members: [cai]
        restrictions: [{ days: [mon, tue, wed, thu, fri], from: "09:00", to: "17:00" }]
escalationPolicies:
  - id: main
    levels:
      - { targets: [{ schedule: primary }], delay: 5m }
      - { targets: [{ schedule: office }, { person: ana }, { schedule: primary }], delay: 10m }
    repeat: 2
    fallback: { person: max }
  - id: office-only
    levels:
      - { targets: [{ schedule: office }], delay: 15m }
    fallback: { schedule: office }
`;

function config(): OnCallConfig {
  const result = parseOnCall(YAML, 'oncall.yaml');
  if (!result.ok) throw new Error(result.problems.map(formatOnCallProblem).join('\n'));
  return result.config;
}

describe('resolveEscalation', () => {
  const weekday = new Date('2025-03-26T10:00:00Z'); // Wednesday 11:00 CET: ben on primary, cai in the office

  test('levels become people with their contacts, in delay order, at that instant', () => {
    const snapshot = resolveEscalation('main', config(), weekday);
    expect(snapshot).toEqual({
      policyId: 'main',
      levels: [
        {
          delayMs: 300_000,
          targets: [{ personId: 'ben', name: 'Ben', contacts: [{ channel: 'slack', to: 'U01BEN', delayMs: 0 }], scheduleId: 'primary' }],
        },
        {
          delayMs: 600_000,
          targets: [
            { personId: 'cai', name: 'Cai', contacts: [{ channel: 'email', to: 'cai@example.com', delayMs: 0 }], scheduleId: 'office' },
            {
              personId: 'ana',
              name: 'Ana',
              contacts: [
                { channel: 'slack', to: 'U01ANA', delayMs: 0 },
                { channel: 'email', to: 'ana@example.com', delayMs: 60_000 },
                { channel: 'webhook', to: '+4915100000001', delayMs: 300_000 },
              ],
              scheduleId: null,
            },
            { personId: 'ben', name: 'Ben', contacts: [{ channel: 'slack', to: 'U01BEN', delayMs: 0 }], scheduleId: 'primary' },
          ],
        },
      ],
      repeat: 2,
      fallback: {
        personId: 'max',
        name: 'Max the manager',
        contacts: [{ channel: 'email', to: 'max@example.com', delayMs: 0 }],
        scheduleId: null,
      },
      resolvedAt: '2025-03-26T10:00:00.000Z',
      warnings: [],
    });
  });

  test('is plain JSON that the schema accepts (what a workflow can pin)', () => {
    const snapshot = resolveEscalation('main', config(), weekday);
    expect(JSON.parse(JSON.stringify(snapshot))).toEqual(snapshot);
    expect(EscalationSnapshotSchema.parse(snapshot)).toEqual(snapshot);
  });

  test('someone named twice in a level is paged once', () => {
    const nextWeek = resolveEscalation('main', config(), new Date('2025-03-31T10:00:00Z')); // ana on primary
    expect(nextWeek.levels[1]!.targets.map((t) => `${t.personId}:${t.scheduleId}`)).toEqual(['cai:office', 'ana:null']);
  });

  test('a schedule with nobody on call leaves the level empty and says so', () => {
    const saturday = resolveEscalation('office-only', config(), new Date('2025-03-29T12:00:00Z'));
    expect(saturday.levels).toEqual([{ delayMs: 900_000, targets: [] }]);
    expect(saturday.fallback).toBeNull();
    expect(saturday.warnings).toEqual([
      'level 1: nobody is on call in schedule "office"',
      'fallback: nobody is on call in schedule "office"',
    ]);
  });

  test('overrides made through the API change who is paged', () => {
    const snapshot = resolveEscalation('main', config(), weekday, {
      primary: [{ id: 'o1', person: 'max', from: '2025-03-26T00:00:00Z', to: '2025-03-27T00:00:00Z' }],
    });
    expect(snapshot.levels[0]!.targets.map((t) => t.personId)).toEqual(['max']);
  });

  test('a snapshot does not change when the config does afterwards', () => {
    const c = config();
    const snapshot = resolveEscalation('main', c, weekday);
    const before = JSON.stringify(snapshot);
    c.people.find((p) => p.id === 'ben')!.slack = 'U09CHANGED';
    c.escalationPolicies[0]!.levels.pop();
    expect(JSON.stringify(snapshot)).toBe(before);
  });

  test('an unknown policy is an UnknownPolicyError', () => {
    expect(() => resolveEscalation('nope', config(), weekday)).toThrow(UnknownPolicyError);
    expect(() => resolveEscalation('nope', config(), weekday)).toThrow('no escalation policy "nope" in config/oncall.yaml');
  });
});

describe('overrides in the store', () => {
  test('are stored, listed oldest first by schedule and end, and snapshotted with the policy', async () => {
    const store = await openTestStore(tempDir());
    try {
      const base = { reason: null, createdBy: { id: 'token:1', name: 'Ada Admin', role: 'admin' as const } };
      await store.insertOnCallOverride({
        ...base,
        id: 'a',
        scheduleId: 'primary',
        personId: 'max',
        from: '2025-03-26T00:00:00.000Z',
        to: '2025-03-27T00:00:00.000Z',
        createdAt: '2025-03-20T00:00:00.000Z',
      });
      await store.insertOnCallOverride({
        ...base,
        id: 'b',
        scheduleId: 'primary',
        personId: 'ana',
        from: '2025-03-26T09:00:00.000Z',
        to: '2025-03-26T11:00:00.000Z',
        createdAt: '2025-03-21T00:00:00.000Z',
        reason: 'swap',
      });
      await store.insertOnCallOverride({
        ...base,
        id: 'c',
        scheduleId: 'office',
        personId: 'ana',
        from: '2025-03-01T00:00:00.000Z',
        to: '2025-03-02T00:00:00.000Z',
        createdAt: '2025-02-21T00:00:00.000Z',
      });

      expect((await store.listOnCallOverrides({ limit: 10 })).map((o) => o.id)).toEqual(['c', 'a', 'b']);
      expect(
        (await store.listOnCallOverrides({ scheduleId: 'primary', endsAfter: '2025-03-26T11:00:00.000Z', limit: 10 })).map((o) => o.id),
      ).toEqual(['a']);
      expect(await storedOverrides(store, new Date('2025-03-25T00:00:00Z'))).toEqual({
        primary: [
          { id: 'a', person: 'max', from: '2025-03-26T00:00:00.000Z', to: '2025-03-27T00:00:00.000Z' },
          { id: 'b', person: 'ana', from: '2025-03-26T09:00:00.000Z', to: '2025-03-26T11:00:00.000Z' },
        ],
      });

      const snapshot = await snapshotEscalation({ store, config: config() }, 'main', new Date('2025-03-26T10:00:00Z'));
      expect(snapshot.levels[0]!.targets.map((t) => t.personId)).toEqual(['ana']); // the later override wins

      expect(await store.deleteOnCallOverride('office', 'a')).toBeUndefined();
      expect(await store.deleteOnCallOverride('primary', 'a')).toMatchObject({ id: 'a', personId: 'max', createdBy: base.createdBy });
      expect((await store.listOnCallOverrides({ limit: 10 })).map((o) => o.id)).toEqual(['c', 'b']);
    } finally {
      await store.close();
    }
  });

  test('migration 6 creates the table', async () => {
    const dir = tempDir();
    const store = await openTestStore(dir);
    await store.close();
    const Database = (await import('better-sqlite3')).default;
    const db = new Database(path.join(dir, 'fireline.db'), { readonly: true });
    try {
      expect(db.prepare('SELECT id, name FROM schema_migrations WHERE id = 6').get()).toEqual({ id: 6, name: 'oncall-overrides' });
    } finally {
      db.close();
    }
  });
});
