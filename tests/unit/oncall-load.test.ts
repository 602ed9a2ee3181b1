import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EMPTY_ONCALL } from '../../src/domain/oncall';
import { OnCallConfigError, formatOnCallProblem, loadOnCall, loadOnCallOrFail, parseOnCall } from '../../src/oncall/load';
import type { OnCallProblem } from '../../src/oncall/load';
import { createOnCallSource } from '../../src/oncall/source';

const EXAMPLE = join(__dirname, '..', '..', 'config', 'oncall.yaml');
const RUNBOOKS = join(__dirname, '..', '..', 'runbooks');

/** A valid file; tests break one line at a time, so line numbers below refer to this text. */
const VALID = `people:
  - id: ana
    name: Ana
    email: ana@example.com
    slack: U01ANA
    timeZone: Europe/Berlin
    contact:
      - { channel: slack, delay: 0m }
      - { channel: email, delay: 5m }
  - id: ben
    name: Ben
    webhook: "+4915100000002"
    timeZone: America/New_York
schedules:
  - id: primary
    timeZone: Europe/Berlin
    layers:
      - name: weekly
        rotation: { length: 1w, handoff: "09:00", start: 2025-01-06 }
        members: [ana, ben]
escalationPolicies:
  - id: main
    levels:
      - { targets: [{ schedule: primary }], delay: 5m }
      - { targets: [{ person: ben }], delay: 10m }
    repeat: 1
    fallback: { person: ana }
`;

function replaceLine(text: string, line: number, replacement: string): string {
  const lines = text.split('\n');
  lines[line - 1] = replacement;
  return lines.join('\n');
}

function lineOf(text: string, needle: string): number {
  const index = text.split('\n').findIndex((line) => line.includes(needle));
  if (index === -1) throw new Error(`"${needle}" not found`);
  return index + 1;
}

function problemsOf(text: string): OnCallProblem[] {
  const result = parseOnCall(text, 'config/oncall.yaml');
  if (result.ok) throw new Error('expected problems, the file parsed');
  return result.problems;
}

function onlyProblem(text: string): OnCallProblem {
  const problems = problemsOf(text);
  expect(problems.map(formatOnCallProblem)).toHaveLength(1);
  return problems[0]!;
}

describe('the example config/oncall.yaml', () => {
  test('is valid and has a policy for every runbook that names one', () => {
    const result = loadOnCall(EXAMPLE);
    if (!result.ok) throw new Error(result.problems.map(formatOnCallProblem).join('\n'));
    const policies = result.config.escalationPolicies.map((p) => p.id);
    const named = readdirSync(RUNBOOKS)
      .filter((f) => f.endsWith('.yaml'))
      .flatMap((f) => [...readFileSync(join(RUNBOOKS, f), 'utf8').matchAll(/^escalation: (\S+)/gm)].map((m) => m[1]));
    expect(named.length).toBeGreaterThan(0);
    for (const id of named) expect(policies).toContain(id);
  });
});

describe('parseOnCall', () => {
  test('the valid text parses, with durations in ms and default contacts', () => {
    const result = parseOnCall(VALID, 'oncall.yaml');
    if (!result.ok) throw new Error(result.problems.map(formatOnCallProblem).join('\n'));
    const { config } = result;
    expect(config.people[0]!.contact).toEqual([
      { channel: 'slack', delay: 0 },
      { channel: 'email', delay: 300_000 },
    ]);
    // Without contact rules every address is used at once.
    expect(config.people[1]!.contact).toEqual([{ channel: 'webhook', delay: 0 }]);
    expect(config.schedules[0]!.layers[0]!.rotation).toEqual({ length: 604_800_000, handoff: '09:00', start: '2025-01-06' });
    expect(config.schedules[0]!.overrides).toEqual([]);
    expect(config.escalationPolicies[0]).toEqual({
      id: 'main',
      levels: [
        { targets: [{ schedule: 'primary' }], delay: 300_000 },
        { targets: [{ person: 'ben' }], delay: 600_000 },
      ],
      repeat: 1,
      fallback: { person: 'ana' },
    });
  });

  test('an unknown time zone is rejected with file:line:col and path', () => {
    const line = lineOf(VALID, 'timeZone: America/New_York');
    const p = onlyProblem(replaceLine(VALID, line, '    timeZone: America/Gotham'));
    expect(formatOnCallProblem(p)).toBe(
      `config/oncall.yaml:${line}:15: people[1].timeZone: "America/Gotham" is not an IANA time zone (e.g. Europe/Berlin, America/New_York, UTC)`,
    );
    const scheduleZone = lineOf(VALID, '  - id: primary') + 1;
    expect(formatOnCallProblem(onlyProblem(replaceLine(VALID, scheduleZone, '    timeZone: CEST')))).toMatch(
      new RegExp(`^config/oncall\\.yaml:${scheduleZone}:15: schedules\\[0\\]\\.timeZone: "CEST" is not an IANA time zone`),
    );
  });

  test('unknown people and schedules are named where they are used', () => {
    const members = lineOf(VALID, 'members: [ana, ben]');
    const target = lineOf(VALID, '{ person: ben }');
    const text = replaceLine(
      replaceLine(VALID, members, '        members: [ana, bob]'),
      target,
      '      - { targets: [{ schedule: secondary }], delay: 10m }',
    );
    expect(problemsOf(text).map(formatOnCallProblem)).toEqual([
      `config/oncall.yaml:${members}:24: schedules[0].layers[0].members[1]: unknown person "bob" (people: ana, ben)`,
      `config/oncall.yaml:${target}:33: escalationPolicies[0].levels[1].targets[0].schedule: unknown schedule "secondary" (schedules: primary)`,
    ]);
    const fallback = lineOf(VALID, 'fallback:');
    expect(formatOnCallProblem(onlyProblem(replaceLine(VALID, fallback, '    fallback: { person: zoe }')))).toBe(
      `config/oncall.yaml:${fallback}:25: escalationPolicies[0].fallback.person: unknown person "zoe" (people: ana, ben)`,
    );
  });

  test('bad durations, times and dates', () => {
    const rotationLine = lineOf(VALID, 'rotation:');
    const cases: [string, string][] = [
      [
        '        rotation: { length: 1 week, handoff: "09:00", start: 2025-01-06 }',
        'layers[0].rotation.length: "1 week" is not a duration',
      ],
      ['        rotation: { length: 30m, handoff: "09:00", start: 2025-01-06 }', 'layers[0].rotation.length: must be from 1h to 366d'],
      [
        '        rotation: { length: 1w, handoff: "25:00", start: 2025-01-06 }',
        'layers[0].rotation.handoff: a local time of day such as "09:00"',
      ],
      [
        '        rotation: { length: 1w, handoff: "09:00", start: 2025-02-30 }',
        'layers[0].rotation.start: "2025-02-30" is not a calendar date',
      ],
      [
        '        rotation: { length: 1w, handoff: "09:00", start: "2025-01-06T09:00" }',
        'layers[0].rotation.start: a date such as 2025-01-06',
      ],
    ];
    for (const [replacement, message] of cases) {
      const p = onlyProblem(replaceLine(VALID, rotationLine, replacement));
      expect(p.line).toBe(rotationLine);
      expect(formatOnCallProblem(p)).toContain(`schedules[0].${message}`);
    }
    const delay = lineOf(VALID, '{ schedule: primary }');
    expect(
      formatOnCallProblem(onlyProblem(replaceLine(VALID, delay, '      - { targets: [{ schedule: primary }], delay: soon }'))),
    ).toContain('escalationPolicies[0].levels[0].delay: "soon" is not a duration');
  });

  test('a contact channel needs its address; a person needs one at all', () => {
    const noEmail = VALID.replace('    email: ana@example.com\n', '');
    const rule = lineOf(noEmail, '{ channel: email, delay: 5m }');
    expect(formatOnCallProblem(onlyProblem(noEmail))).toBe(
      `config/oncall.yaml:${rule}:20: people[0].contact[1].channel: contact by email needs "email" on the person`,
    );
    const webhook = lineOf(VALID, 'webhook:');
    expect(formatOnCallProblem(onlyProblem(replaceLine(VALID, webhook, '    # no address')))).toBe(
      `config/oncall.yaml:${webhook - 2}:5: people[1]: person "ben" has no email, slack or webhook: nobody could page them`,
    );
  });

  test('duplicate ids, reserved ids, unknown keys with a suggestion, targets naming both', () => {
    const ben = lineOf(VALID, 'id: ben');
    expect(problemsOf(replaceLine(VALID, ben, '  - id: ana')).map(formatOnCallProblem)[0]).toBe(
      `config/oncall.yaml:${ben}:9: people[1].id: duplicate id "ana" (also people[0])`,
    );
    const schedule = lineOf(VALID, 'id: primary');
    expect(
      formatOnCallProblem(onlyProblem(replaceLine(VALID, schedule, '  - id: policies').replace('schedule: primary', 'schedule: policies'))),
    ).toContain(`:${schedule}:9: schedules[0].id: "policies" is reserved`);
    const members = lineOf(VALID, 'members: [ana, ben]');
    expect(problemsOf(replaceLine(VALID, members, '        membrs: [ana, ben]')).map(formatOnCallProblem)).toContain(
      `config/oncall.yaml:${members}:9: schedules[0].layers[0].membrs: unknown key "membrs" (did you mean "members"?)`,
    );
    const target = lineOf(VALID, '{ person: ben }');
    expect(
      formatOnCallProblem(onlyProblem(replaceLine(VALID, target, '      - { targets: [{ person: ben, schedule: primary }], delay: 10m }'))),
    ).toContain('escalationPolicies[0].levels[1].targets[0]: name exactly one of person or schedule');
  });

  test('overrides: unknown person, to before from, bad date-time', () => {
    const base = `${VALID.split('escalationPolicies:')[0]!}    overrides:\n      - { person: ana, from: "2025-03-01T09:00", to: "2025-03-02T09:00" }\n`;
    expect(parseOnCall(base, 'f.yaml').ok).toBe(true);
    const line = lineOf(base, 'overrides:') + 1;
    expect(
      formatOnCallProblem(
        onlyProblem(replaceLine(base, line, '      - { person: zed, from: "2025-03-01T09:00", to: "2025-03-02T09:00" }')),
      ),
    ).toContain('schedules[0].overrides[0].person: unknown person "zed"');
    expect(
      formatOnCallProblem(
        onlyProblem(replaceLine(base, line, '      - { person: ana, from: "2025-03-02T09:00", to: "2025-03-01T09:00+01:00" }')),
      ),
    ).toContain('schedules[0].overrides[0].to: must be after from');
    expect(
      formatOnCallProblem(onlyProblem(replaceLine(base, line, '      - { person: ana, from: "tomorrow", to: "2025-03-01T09:00" }'))),
    ).toContain('schedules[0].overrides[0].from: "tomorrow" is not a date-time');
  });

  test('YAML syntax errors and wrong shapes', () => {
    const [syntax] = problemsOf('people:\n  - id: ana\n   name: x: y\n');
    expect(syntax!.line).toBeGreaterThan(1);
    expect(formatOnCallProblem(onlyProblem('- a\n- b\n'))).toBe(
      'config/oncall.yaml:1:1: the file must be a mapping with people, schedules and escalationPolicies, got a list',
    );
    expect(parseOnCall('', 'empty.yaml')).toEqual({ ok: true, config: EMPTY_ONCALL });
  });
});

describe('loadOnCall / loadOnCallOrFail / createOnCallSource', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fireline-oncall-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('a missing file is an empty configuration', () => {
    expect(loadOnCall(join(dir, 'oncall.yaml'))).toEqual({ ok: true, config: EMPTY_ONCALL });
  });

  test('loadOnCallOrFail throws every problem as file:line:col', () => {
    const file = join(dir, 'oncall.yaml');
    writeFileSync(file, VALID.replace('timeZone: America/New_York', 'timeZone: Mars/Olympus'));
    expect(() => loadOnCallOrFail(file)).toThrow(OnCallConfigError);
    expect(() => loadOnCallOrFail(file)).toThrow(`${file}:13:15: people[1].timeZone: "Mars/Olympus" is not an IANA time zone`);
    writeFileSync(file, VALID);
    expect(loadOnCallOrFail(file).people).toHaveLength(2);
  });

  test('the source reloads a changed file and keeps the last good config when an edit is broken', () => {
    const file = join(dir, 'oncall.yaml');
    writeFileSync(file, VALID);
    let clock = 0;
    const reported: string[] = [];
    const source = createOnCallSource(file, { now: () => clock, onProblems: (ps) => reported.push(...ps.map(formatOnCallProblem)) });
    expect(source.current().people.map((p) => p.id)).toEqual(['ana', 'ben']);

    writeFileSync(file, VALID.replace('  - id: ben\n    name: Ben\n', '  - id: ben\n    name: Benjamin\n'));
    expect(source.current().people[1]!.name).toBe('Ben'); // not checked again within a second
    clock += 1500;
    expect(source.current().people[1]!.name).toBe('Benjamin');

    writeFileSync(file, `${VALID}\n  oops: [`);
    clock += 1500;
    expect(source.current().people[1]!.name).toBe('Benjamin');
    expect(reported).toHaveLength(1);
  });
});
