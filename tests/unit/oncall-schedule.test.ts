// Who is on call: rotations, layers, restrictions and overrides, across DST changes in several time zones.
import type { OnCallConfig, Schedule } from '../../src/domain/oncall';
import { formatOnCallProblem, parseOnCall } from '../../src/oncall/load';
import { configOverrides, nextHandoffs, shifts, whoIsOnCall } from '../../src/oncall/schedule';
import type { Shift } from '../../src/oncall/schedule';

const PEOPLE = `
people:
  - { id: ana, name: Ana, email: ana@example.com, timeZone: Europe/Berlin }
  - { id: ben, name: Ben, email: ben@example.com, timeZone: Europe/Berlin }
  - { id: cai, name: Cai, email: cai@example.com, timeZone: Australia/Sydney }
  - { id: dee, name: Dee, email: dee@example.com, timeZone: America/New_York }
`;

function configOf(schedules: string): OnCallConfig {
  const result = parseOnCall(`${PEOPLE}\nschedules:\n${schedules}`, 'oncall.yaml');
  if (!result.ok) throw new Error(result.problems.map(formatOnCallProblem).join('\n'));
  return result.config;
}

/** One schedule with one layer. */
function rotation(opts: { zone: string; length: string; handoff: string; start: string; members?: string; extra?: string }): {
  config: OnCallConfig;
  schedule: Schedule;
} {
  const config = configOf(`
  - id: s
    timeZone: ${opts.zone}
    layers:
      - name: main
        rotation: { length: ${opts.length}, handoff: "${opts.handoff}", start: ${opts.start} }
        members: [${opts.members ?? 'ana, ben'}]
${opts.extra ?? ''}`);
  return { config, schedule: config.schedules[0]! };
}

function onCall(config: OnCallConfig, schedule: Schedule, iso: string, overrides: Parameters<typeof whoIsOnCall>[3] = []): string[] {
  return whoIsOnCall(schedule, config.people, new Date(iso), overrides).map((p) => p.id);
}

function handoffTimes(config: OnCallConfig, schedule: Schedule, fromIso: string, count: number): string[] {
  return nextHandoffs(schedule, config.people, new Date(fromIso), count).map((h) => h.at.toISOString());
}

function describeShifts(list: Shift[]): string[] {
  return list.map((s) => `${s.start.toISOString()} → ${s.end.toISOString()} ${s.people.map((p) => p.id).join(',')}`);
}

const HOUR = 3_600_000;

describe('weekly rotation in Europe/Berlin (DST: last Sunday of March and of October)', () => {
  const { config, schedule } = rotation({ zone: 'Europe/Berlin', length: '1w', handoff: '09:00', start: '2025-03-17' });

  test('hands off at 09:00 local before and after the spring change: 08:00Z in winter, 07:00Z in summer', () => {
    expect(handoffTimes(config, schedule, '2025-03-20T00:00:00Z', 3)).toEqual([
      '2025-03-24T08:00:00.000Z', // 09:00 CET
      '2025-03-31T07:00:00.000Z', // 09:00 CEST, the week with 2025-03-30 is 167 hours long
      '2025-04-07T07:00:00.000Z',
    ]);
    expect(onCall(config, schedule, '2025-03-24T07:59:59Z')).toEqual(['ana']);
    expect(onCall(config, schedule, '2025-03-24T08:00:00Z')).toEqual(['ben']);
    expect(onCall(config, schedule, '2025-03-31T06:59:59Z')).toEqual(['ben']);
    expect(onCall(config, schedule, '2025-03-31T07:00:00Z')).toEqual(['ana']);
  });

  test('and across the autumn change (the week with 2025-10-26 is 169 hours long)', () => {
    const times = handoffTimes(config, schedule, '2025-10-19T00:00:00Z', 2);
    expect(times).toEqual(['2025-10-20T07:00:00.000Z', '2025-10-27T08:00:00.000Z']);
    expect(Date.parse(times[1]!) - Date.parse(times[0]!)).toBe(169 * HOUR);
    // 31 weeks after the start: the rotation has not drifted by an hour either way.
    expect(onCall(config, schedule, '2025-10-27T07:59:00Z')).toEqual(onCall(config, schedule, '2025-10-20T07:00:00Z'));
  });

  test('nobody before the rotation starts', () => {
    expect(onCall(config, schedule, '2025-03-17T07:59:59Z')).toEqual([]);
    expect(onCall(config, schedule, '2025-03-17T08:00:00Z')).toEqual(['ana']);
  });

  test('an invalid date is an error, not a guess', () => {
    expect(() => whoIsOnCall(schedule, config.people, new Date('not a date'))).toThrow(RangeError);
  });

  test('a 12h rotation keeps 09:00 and 21:00 local; the night of the change is 11 hours', () => {
    const twelve = rotation({ zone: 'Europe/Berlin', length: '12h', handoff: '09:00', start: '2025-03-28' });
    expect(handoffTimes(twelve.config, twelve.schedule, '2025-03-29T12:00:00Z', 4)).toEqual([
      '2025-03-29T20:00:00.000Z', // 21:00 CET
      '2025-03-30T07:00:00.000Z', // 09:00 CEST: 11 hours later
      '2025-03-30T19:00:00.000Z', // 21:00 CEST
      '2025-03-31T07:00:00.000Z',
    ]);
  });
});

describe('daily rotation in America/New_York (DST: second Sunday of March, first Sunday of November)', () => {
  const { config, schedule } = rotation({
    zone: 'America/New_York',
    length: '1d',
    handoff: '09:00',
    start: '2025-03-01',
    members: 'ana, ben, dee',
  });

  test('09:00 local every day: 14:00Z in EST, 13:00Z in EDT', () => {
    expect(handoffTimes(config, schedule, '2025-03-07T15:00:00Z', 3)).toEqual([
      '2025-03-08T14:00:00.000Z',
      '2025-03-09T13:00:00.000Z', // 2025-03-09 is 23 hours long
      '2025-03-10T13:00:00.000Z',
    ]);
    expect(handoffTimes(config, schedule, '2025-11-01T12:00:00Z', 3)).toEqual([
      '2025-11-01T13:00:00.000Z',
      '2025-11-02T14:00:00.000Z', // 2025-11-02 is 25 hours long
      '2025-11-03T14:00:00.000Z',
    ]);
  });

  test('each day has the next member, counted in local days (no drift after a change)', () => {
    // 2025-03-01 is ana (day 0); 2025-03-10 is day 9 → ana again; 2025-11-03 is day 247 → ben.
    expect(onCall(config, schedule, '2025-03-10T13:00:00Z')).toEqual(['ana']);
    expect(onCall(config, schedule, '2025-03-10T12:59:59Z')).toEqual(['dee']);
    expect(onCall(config, schedule, '2025-11-03T14:00:00Z')).toEqual(['ben']);
  });

  test('a hand-off time that does not exist on the spring night moves forward; a repeated one is its second occurrence', () => {
    const night = rotation({ zone: 'America/New_York', length: '1d', handoff: '02:30', start: '2025-03-01' });
    expect(handoffTimes(night.config, night.schedule, '2025-03-08T00:00:00Z', 3)).toEqual([
      '2025-03-08T07:30:00.000Z', // 02:30 EST
      '2025-03-09T07:30:00.000Z', // 02:30 does not exist: 03:30 EDT
      '2025-03-10T06:30:00.000Z', // 02:30 EDT
    ]);
    const repeated = rotation({ zone: 'America/New_York', length: '1d', handoff: '01:30', start: '2025-10-01' });
    expect(handoffTimes(repeated.config, repeated.schedule, '2025-11-01T00:00:00Z', 3)).toEqual([
      '2025-11-01T05:30:00.000Z', // 01:30 EDT
      '2025-11-02T06:30:00.000Z', // 01:30 happens twice: the EST one
      '2025-11-03T06:30:00.000Z',
    ]);
    // During the first 01:30–02:00 (EDT) the previous day's member is still on call.
    expect(onCall(repeated.config, repeated.schedule, '2025-11-02T05:45:00Z')).toEqual(
      onCall(repeated.config, repeated.schedule, '2025-11-01T12:00:00Z'),
    );
  });
});

describe('Australia/Sydney (DST ends first Sunday of April, starts first Sunday of October)', () => {
  const { config, schedule } = rotation({
    zone: 'Australia/Sydney',
    length: '1w',
    handoff: '09:00',
    start: '2025-03-24',
    members: 'cai, ana',
  });

  test('Monday 09:00 local: 22:00Z the day before in AEDT, 23:00Z in AEST', () => {
    expect(handoffTimes(config, schedule, '2025-03-25T00:00:00Z', 2)).toEqual(['2025-03-30T22:00:00.000Z', '2025-04-06T23:00:00.000Z']);
    // 2025-09-29 09:00 AEST was 2025-09-28T23:00Z; DST starts on 2025-10-05.
    expect(handoffTimes(config, schedule, '2025-09-29T00:00:00Z', 2)).toEqual(['2025-10-05T22:00:00.000Z', '2025-10-12T22:00:00.000Z']);
    expect(onCall(config, schedule, '2025-04-06T22:59:59Z')).toEqual(['ana']);
    expect(onCall(config, schedule, '2025-04-06T23:00:00Z')).toEqual(['cai']);
  });

  test('the same instant gives the same answer however it is written', () => {
    const instants = ['2025-04-06T23:30:00Z', '2025-04-07T09:30:00+10:00', '2025-04-06T19:30:00-04:00'];
    expect(new Set(instants.map((i) => onCall(config, schedule, i).join()))).toEqual(new Set(['cai']));
  });
});

describe('layers and restrictions', () => {
  const config = configOf(`
  - id: follow
    timeZone: Europe/Berlin
    layers:
      - name: nights-and-weekends
        rotation: { length: 1w, handoff: "09:00", start: 2025-03-03 }
        members: [cai, dee]
      - name: business-hours
        rotation: { length: 1d, handoff: "09:00", start: 2025-03-03 }
        members: [ana, ben]
        restrictions:
          - { days: [mon, tue, wed, thu, fri], from: "09:00", to: "17:00" }
`);
  const schedule = config.schedules[0]!;

  test('the later layer wins inside its windows; the earlier one shows through outside them', () => {
    // Mon 2025-03-24 (CET): business hours 08:00Z–16:00Z.
    expect(onCall(config, schedule, '2025-03-24T07:59:00Z')).toEqual(['cai']); // week 2 until 09:00 local
    expect(onCall(config, schedule, '2025-03-24T08:00:00Z')).toEqual(['ben']); // day 21
    expect(onCall(config, schedule, '2025-03-24T15:59:00Z')).toEqual(['ben']);
    expect(onCall(config, schedule, '2025-03-24T16:00:00Z')).toEqual(['dee']); // week 3
    expect(onCall(config, schedule, '2025-03-25T10:00:00Z')).toEqual(['ana']);
    // Saturday and Sunday: no business hours.
    expect(onCall(config, schedule, '2025-03-29T12:00:00Z')).toEqual(['dee']);
    // After the change, business hours are 07:00Z–15:00Z.
    expect(onCall(config, schedule, '2025-03-31T07:00:00Z')).toEqual(['ana']);
    expect(onCall(config, schedule, '2025-03-31T15:00:00Z')).toEqual(['cai']);
  });

  test('shifts: one per business day, the base layer in between', () => {
    const list = shifts(schedule, config.people, { from: new Date('2025-03-28T12:00:00Z'), to: new Date('2025-04-01T00:00:00Z') });
    expect(describeShifts(list)).toEqual([
      '2025-03-28T08:00:00.000Z → 2025-03-28T16:00:00.000Z ben',
      '2025-03-28T16:00:00.000Z → 2025-03-31T07:00:00.000Z dee',
      '2025-03-31T07:00:00.000Z → 2025-03-31T15:00:00.000Z ana',
      '2025-03-31T15:00:00.000Z → 2025-04-01T07:00:00.000Z cai',
    ]);
    expect(list.map((s) => s.source)).toEqual([
      { kind: 'layer', layer: 'business-hours' },
      { kind: 'layer', layer: 'nights-and-weekends' },
      { kind: 'layer', layer: 'business-hours' },
      { kind: 'layer', layer: 'nights-and-weekends' },
    ]);
  });

  test('hand-offs include the ones into and out of business hours', () => {
    const next = nextHandoffs(schedule, config.people, new Date('2025-03-28T12:00:00Z'), 3);
    expect(next.map((h) => `${h.at.toISOString()} ${h.from.map((p) => p.id)}→${h.to.map((p) => p.id)}`)).toEqual([
      '2025-03-28T16:00:00.000Z ben→dee',
      '2025-03-31T07:00:00.000Z dee→ana',
      '2025-03-31T15:00:00.000Z ana→cai',
    ]);
  });

  test('a window past midnight belongs to the day it starts; gaps have no one', () => {
    const nights = configOf(`
  - id: nights
    timeZone: Europe/Berlin
    layers:
      - name: weeknights
        rotation: { length: 1w, handoff: "17:00", start: 2025-03-03 }
        members: [ana]
        restrictions:
          - { days: [fri], from: "22:00", to: "06:00" }
`);
    const s = nights.schedules[0]!;
    expect(onCall(nights, s, '2025-03-28T21:30:00Z')).toEqual(['ana']); // Fri 22:30 CET
    expect(onCall(nights, s, '2025-03-29T04:59:00Z')).toEqual(['ana']); // Sat 05:59 CET
    expect(onCall(nights, s, '2025-03-29T05:00:00Z')).toEqual([]);
    expect(onCall(nights, s, '2025-03-27T22:00:00Z')).toEqual([]); // Thu night
  });

  test('a later layer that has not started yet leaves the earlier one on call', () => {
    const later = configOf(`
  - id: later
    timeZone: UTC
    layers:
      - { name: old, rotation: { length: 1w, handoff: "09:00", start: 2025-01-06 }, members: [ana] }
      - { name: new, rotation: { length: 1w, handoff: "09:00", start: 2025-06-02 }, members: [ben] }
`);
    const s = later.schedules[0]!;
    expect(onCall(later, s, '2025-06-02T08:59:59Z')).toEqual(['ana']);
    expect(onCall(later, s, '2025-06-02T09:00:00Z')).toEqual(['ben']);
  });
});

describe('overrides', () => {
  const { config, schedule } = rotation({
    zone: 'Europe/Berlin',
    length: '1w',
    handoff: '09:00',
    start: '2025-03-17',
    extra: `    overrides:
      - { person: cai, from: "2025-03-26T09:00", to: "2025-03-27T09:00" }
      - { person: dee, from: "2025-03-26T12:00:00+01:00", to: "2025-03-26T13:00:00+01:00" }
`,
  });

  test('a config override wins over the layers; local times are read in the schedule zone', () => {
    expect(onCall(config, schedule, '2025-03-26T07:59:00Z')).toEqual(['ben']);
    expect(onCall(config, schedule, '2025-03-26T08:00:00Z')).toEqual(['cai']);
    expect(onCall(config, schedule, '2025-03-27T08:00:00Z')).toEqual(['ben']);
  });

  test('a later override wins over an earlier one', () => {
    expect(onCall(config, schedule, '2025-03-26T11:30:00Z')).toEqual(['dee']);
    expect(onCall(config, schedule, '2025-03-26T12:00:00Z')).toEqual(['cai']);
  });

  test('API overrides come after config ones and win over them', () => {
    const api = [{ id: 'o1', person: 'ana', from: '2025-03-26T10:00:00.000Z', to: '2025-03-26T14:00:00.000Z' }];
    expect(onCall(config, schedule, '2025-03-26T11:30:00Z', api)).toEqual(['ana']);
    expect(onCall(config, schedule, '2025-03-26T14:00:00Z', api)).toEqual(['cai']);
  });

  test('an override naming someone no longer in the config is ignored, not a gap', () => {
    expect(
      onCall(config, schedule, '2025-03-25T12:00:00Z', [{ person: 'zed', from: '2025-03-25T00:00:00Z', to: '2025-03-26T00:00:00Z' }]),
    ).toEqual(['ben']);
  });

  test('shifts around an override: the interrupted shift resumes with the same person', () => {
    const list = shifts(schedule, config.people, { from: new Date('2025-03-26T00:00:00Z'), to: new Date('2025-03-27T12:00:00Z') });
    expect(describeShifts(list)).toEqual([
      '2025-03-24T08:00:00.000Z → 2025-03-26T08:00:00.000Z ben',
      '2025-03-26T08:00:00.000Z → 2025-03-26T11:00:00.000Z cai',
      '2025-03-26T11:00:00.000Z → 2025-03-26T12:00:00.000Z dee',
      '2025-03-26T12:00:00.000Z → 2025-03-27T08:00:00.000Z cai',
      '2025-03-27T08:00:00.000Z → 2025-03-31T07:00:00.000Z ben',
    ]);
    expect(list[1]!.source).toEqual({ kind: 'override', overrideId: 'config:0' });
  });

  test('configOverrides shows them in UTC', () => {
    expect(configOverrides(schedule)).toEqual([
      { id: 'config:0', person: 'cai', from: '2025-03-26T08:00:00.000Z', to: '2025-03-27T08:00:00.000Z' },
      { id: 'config:1', person: 'dee', from: '2025-03-26T11:00:00.000Z', to: '2025-03-26T12:00:00.000Z' },
    ]);
  });
});

describe('shifts over a sliding window', () => {
  const { config, schedule } = rotation({
    zone: 'Europe/Berlin',
    length: '1w',
    handoff: '09:00',
    start: '2025-01-06',
    members: 'ana, ben, cai',
  });

  test('a shift keeps its real start and end whatever the window (stable calendar UIDs)', () => {
    const day = 86_400_000;
    const base = Date.parse('2025-03-20T10:00:00Z');
    const windows = [0, 1, 2, 3].map((d) =>
      shifts(schedule, config.people, { from: new Date(base + d * day), to: new Date(base + (d + 30) * day) }),
    );
    const starts = windows.map((list) => list.map((s) => s.start.toISOString()));
    for (const list of starts.slice(1)) expect(list[0]).toBe(starts[0]![0]);
    expect(starts[0]![0]).toBe('2025-03-17T08:00:00.000Z');
    expect(windows[0]!.every((s, i, all) => i === 0 || all[i - 1]!.end.getTime() === s.start.getTime())).toBe(true);
  });

  test('a single-member layer has one shift per period and never hands off', () => {
    const solo = rotation({ zone: 'UTC', length: '1w', handoff: '00:00', start: '2025-01-06', members: 'ana' });
    expect(nextHandoffs(solo.schedule, solo.config.people, new Date('2025-03-01T00:00:00Z'), 3)).toEqual([]);
    const list = shifts(solo.schedule, solo.config.people, {
      from: new Date('2025-03-01T00:00:00Z'),
      to: new Date('2025-03-15T00:00:00Z'),
    });
    expect(list.map((s) => s.start.toISOString())).toEqual([
      '2025-02-24T00:00:00.000Z',
      '2025-03-03T00:00:00.000Z',
      '2025-03-10T00:00:00.000Z',
    ]);
  });
});
