import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StepSchema } from '../../src/domain/runbook';
import { listRunbookFiles, RunbookCatalog } from '../../src/runbooks/catalog';
import { checkRunbook, type RunbookRule } from '../../src/runbooks/check';
import { formatProblem, parseRunbook, type RunbookProblem } from '../../src/runbooks/load';
import { printValidation, validateRunbookFiles } from '../../src/runbooks/validate-command';

const RUNBOOKS_DIR = join(__dirname, '..', '..', 'runbooks');

/** A valid runbook; tests break one line at a time, so line numbers below refer to this text. */
const VALID = `id: sample
title: Sample
owner: team-test
phases:
  detect:
    - id: opened
      kind: notify
      message: "Opened: \${incident.title}"
  decide:
    - id: choice
      kind: decide
      prompt: Which way?
      options: [left, right]
      default: left
      timeout: 15m
  execute:
    - id: pause
      kind: wait
      duration: 1m
  retrospective:
    - id: review
      kind: notify
      message: Review please
`;

function replaceLine(text: string, line: number, replacement: string): string {
  const lines = text.split('\n');
  lines[line - 1] = replacement;
  return lines.join('\n');
}

function problemsOf(text: string | Uint8Array, file = 'runbooks/sample.yaml'): RunbookProblem[] {
  const result = parseRunbook(text, file);
  if (result.ok) throw new Error('expected problems, the runbook parsed');
  return result.problems;
}

function onlyProblem(text: string | Uint8Array, file?: string): RunbookProblem {
  const problems = problemsOf(text, file);
  expect(problems).toHaveLength(1);
  return problems[0] as RunbookProblem;
}

describe('parseRunbook', () => {
  it('accepts the sample and hashes the bytes', () => {
    const result = parseRunbook(VALID, 'sample.yaml');
    expect(result).toMatchObject({ ok: true, runbook: { id: 'sample', phases: { decide: [{ timeout: 900_000 }] } } });
    expect(result.version).toMatch(/^[0-9a-f]{64}$/);
    expect(parseRunbook(Buffer.from(VALID), 'sample.yaml').version).toBe(result.version);
    expect(parseRunbook(`${VALID}# comment\n`, 'sample.yaml').version).not.toBe(result.version);
  });

  it.each(['triage.yaml', 'order-db-outage.yaml'])('shipped runbook %s has no problems', (name) => {
    const result = parseRunbook(readFileSync(join(RUNBOOKS_DIR, name)), join('runbooks', name));
    expect(result.ok ? [] : result.problems.map(formatProblem)).toEqual([]);
  });

  it('reports an unknown step kind at the kind, listing the kinds from the schema', () => {
    const kinds = StepSchema.options.map((option) => option.shape.kind.value);
    const problem = onlyProblem(replaceLine(VALID, 18, '      kind: sleep'));
    expect(problem).toMatchObject({ file: 'runbooks/sample.yaml', line: 18, col: 13, path: 'phases.execute[0].kind' });
    expect(problem.message).toBe(`unknown step kind "sleep" (expected one of ${kinds.join(', ')})`);
  });

  it('reports a missing step kind at the step mapping', () => {
    const problem = onlyProblem(replaceLine(VALID, 18, ''));
    expect(problem).toMatchObject({ line: 17, col: 7, path: 'phases.execute[0].kind' });
    expect(problem.message).toMatch(/^missing step kind/);
  });

  it('reports a duplicate step id at the second use', () => {
    const problem = onlyProblem(replaceLine(VALID, 21, '    - id: opened'));
    expect(problem).toMatchObject({ line: 21, col: 11, path: 'phases.retrospective[0].id' });
    expect(problem.message).toBe('duplicate step id "opened" (first used at phases.detect[0].id)');
  });

  it('reports a bad duration at its value', () => {
    const problem = onlyProblem(replaceLine(VALID, 15, '      timeout: 15 minutes'));
    expect(problem).toMatchObject({ line: 15, col: 16, path: 'phases.decide[0].timeout' });
    expect(problem.message).toContain('"15 minutes" is not a duration');
  });

  it('reports zero durations after the schema passes', () => {
    const text = replaceLine(replaceLine(VALID, 15, '      timeout: 0m'), 19, '      duration: 0s');
    expect(problemsOf(text)).toMatchObject([
      { line: 15, col: 16, path: 'phases.decide[0].timeout', message: expect.stringContaining('longer than 0') },
      { line: 19, col: 17, path: 'phases.execute[0].duration', message: 'wait duration must be longer than 0' },
    ]);
  });

  it('reports a default that is not an option at the default', () => {
    const problem = onlyProblem(replaceLine(VALID, 14, '      default: up'));
    expect(problem).toMatchObject({ line: 14, col: 16, path: 'phases.decide[0].default' });
    expect(problem.message).toBe('default "up" is not one of the options');
  });

  it('reports a YAML syntax error with its position', () => {
    // The unclosed flow list is noticed where the next key starts.
    expect(problemsOf(replaceLine(VALID, 13, '      options: [left, right'))).toEqual([
      { file: 'runbooks/sample.yaml', line: 14, col: 7, path: '', message: expect.stringContaining('end with a ]') },
    ]);
    expect(problemsOf(replaceLine(VALID, 3, 'owner: "team-test'))[0]).toMatchObject({
      line: 3,
      path: '',
      message: expect.stringContaining('quote'),
    });
  });

  it('reports a duplicate mapping key as a YAML error at the second key', () => {
    const problem = onlyProblem(replaceLine(VALID, 3, 'title: Again'));
    expect(problem).toMatchObject({ line: 3, col: 1, path: '' });
    expect(problem.message).toMatch(/unique/);
  });

  it('reports an unknown key at the key', () => {
    const problem = onlyProblem(replaceLine(VALID, 12, '      prompt: Which way?\n      note: hi'));
    expect(problem).toMatchObject({ line: 13, col: 7, path: 'phases.decide[0].note' });
    expect(problem.message).toMatch(
      /^unknown key "note" \(expected one of id, title, when, timeout, .*prompt, options, default, approver\)$/,
    );
  });

  it('reports a typo as an unknown key and a missing key', () => {
    const problems = problemsOf(replaceLine(VALID, 12, '      promt: Which way?'));
    expect(problems).toEqual([
      { file: 'runbooks/sample.yaml', line: 10, col: 7, path: 'phases.decide[0].prompt', message: 'missing required key "prompt"' },
      {
        file: 'runbooks/sample.yaml',
        line: 12,
        col: 7,
        path: 'phases.decide[0].promt',
        message: 'unknown key "promt" (did you mean "prompt"?)',
      },
    ]);
  });

  it('reports an unknown top-level key at the key, listing the allowed keys', () => {
    const problem = onlyProblem(`${VALID}escalate: orders-primary\n`);
    expect(problem).toMatchObject({ line: 24, col: 1, path: 'escalate' });
    expect(problem.message).toMatch(/^unknown key "escalate" \((did you mean "escalation"\?|expected one of id, title, owner,)/);
  });

  it('reports a missing owner at the root mapping', () => {
    expect(onlyProblem(replaceLine(VALID, 3, ''))).toMatchObject({
      line: 1,
      col: 1,
      path: 'owner',
      message: 'missing required key "owner"',
    });
  });

  it('requires a retrospective step', () => {
    const text = VALID.split('\n').slice(0, 19).join('\n');
    expect(onlyProblem(text)).toMatchObject({
      line: 5,
      col: 3,
      path: 'phases.retrospective',
      message: expect.stringContaining('retrospective'),
    });
  });

  it('requires the id to equal the file name', () => {
    const problem = onlyProblem(VALID, 'runbooks/other.yml');
    expect(problem).toMatchObject({ file: 'runbooks/other.yml', line: 1, col: 5, path: 'id' });
    expect(problem.message).toContain('"other"');
  });

  it('describes wrong types in YAML terms', () => {
    expect(onlyProblem(replaceLine(VALID, 13, '      options: left'))).toMatchObject({
      line: 13,
      col: 16,
      path: 'phases.decide[0].options',
      message: 'expected a list, got text "left"',
    });
    expect(onlyProblem('')).toMatchObject({ line: 1, col: 1, path: '', message: expect.stringContaining('got nothing') });
  });

  it('refuses alias bombs and bytes that are not UTF-8', () => {
    const bomb = `a: &a [1, 2]\nb: [${Array.from({ length: 60 }, () => '*a').join(', ')}]\n`;
    expect(onlyProblem(bomb)).toMatchObject({ line: 1, col: 1, path: '', message: expect.stringMatching(/alias/i) });
    expect(onlyProblem(Buffer.from([0x69, 0x64, 0x3a, 0xff]))).toMatchObject({ message: 'the file is not valid UTF-8 text' });
  });

  it('formats problems as file:line:col: path: message', () => {
    expect(formatProblem({ file: 'a.yaml', line: 3, col: 7, path: 'phases.decide[0].default', message: 'bad' })).toBe(
      'a.yaml:3:7: phases.decide[0].default: bad',
    );
    expect(formatProblem({ file: 'a.yaml', line: 1, col: 1, path: '', message: 'bad' })).toBe('a.yaml:1:1: bad');
  });

  it('runs extra rules with positions', () => {
    const noWaits: RunbookRule = (runbook) =>
      runbook.phases.execute.flatMap((step, i) => (step.kind === 'wait' ? [{ path: ['phases', 'execute', i], message: 'no waits' }] : []));
    const result = parseRunbook(VALID, 'sample.yaml', { rules: [noWaits] });
    expect(result).toMatchObject({ ok: false, problems: [{ line: 17, col: 7, path: 'phases.execute[0]', message: 'no waits' }] });
  });

  it('checks runbooks that did not come from a file', () => {
    const parsed = parseRunbook(VALID, 'sample.yaml');
    if (!parsed.ok) throw new Error('sample must parse');
    expect(checkRunbook(parsed.runbook, { file: 'api' })).toEqual([]);
    expect(checkRunbook(parsed.runbook, { file: 'api', fileId: 'x' })).toMatchObject([{ file: 'api', line: 1, col: 1, path: 'id' }]);
  });
});

describe('RunbookCatalog', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fireline-runbooks-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, text: string): void => writeFileSync(join(dir, name), text);

  it('lists runbooks and broken files, skipping READMEs and other files', async () => {
    write('sample.yaml', VALID);
    write('broken.yml', VALID.replace('id: sample', 'id: broken').replace('kind: wait', 'kind: sleep'));
    write('README.md', '# not a runbook');
    write('readme.yaml', 'not: a runbook');
    write('notes.txt', 'hello');
    const list = await new RunbookCatalog(dir).list();
    expect(list.map((s) => s.source)).toEqual(['broken.yml', 'sample.yaml']);
    expect(list[1]).toEqual({
      id: 'sample',
      title: 'Sample',
      owner: 'team-test',
      service: null,
      severity: null,
      version: parseRunbook(VALID, 'sample.yaml').version,
      source: 'sample.yaml',
      problems: [],
    });
    expect(list[0]).toMatchObject({ id: 'broken', title: null, problems: [{ file: join(dir, 'broken.yml'), line: 18 }] });
  });

  it('gets a snapshot of a valid runbook and skips broken or unknown ones', async () => {
    write('sample.yaml', VALID);
    write('broken.yaml', 'id: broken\n');
    const catalog = new RunbookCatalog(dir);
    const snapshot = await catalog.get('sample');
    expect(snapshot).toMatchObject({ runbook: { id: 'sample' }, source: 'sample.yaml' });
    expect(snapshot?.version).toBe(parseRunbook(VALID, 'x').version);
    expect(await catalog.get('broken')).toBeUndefined();
    expect(await catalog.get('missing')).toBeUndefined();
    expect(await catalog.get('../sample')).toBeUndefined();
    expect(await catalog.validateAll()).toMatchObject([
      { file: join(dir, 'broken.yaml'), path: 'title' },
      { path: 'owner' },
      { path: 'phases' },
    ]);
  });

  it('derives severity from risk when none is given', async () => {
    write('sample.yaml', VALID.replace('owner: team-test', 'owner: team-test\nrisk: { likelihood: likely, impact: severe }'));
    expect((await new RunbookCatalog(dir).list())[0]?.severity).toBe('SEV1');
  });

  it('re-reads a file only when its stat changes', async () => {
    // A whole-second mtime, so it can be restored exactly after the rewrite.
    const stamp = new Date('2024-01-01T00:00:00Z');
    const path = join(dir, 'sample.yaml');
    write('sample.yaml', VALID);
    utimesSync(path, stamp, stamp);
    const catalog = new RunbookCatalog(dir);
    const first = await catalog.get('sample');
    // Same size and mtime: the catalog must trust its cache and keep the old version.
    write('sample.yaml', VALID.replace('title: Sample', 'title: Sampel'));
    utimesSync(path, stamp, stamp);
    expect((await catalog.get('sample'))?.version).toBe(first?.version);
    expect((await catalog.get('sample'))?.runbook.title).toBe('Sample');
  });

  it('serves an edited file as a new version without a restart', async () => {
    write('sample.yaml', VALID);
    const catalog = new RunbookCatalog(dir);
    const before = await catalog.get('sample');
    write('sample.yaml', VALID.replace('title: Sample', 'title: Sample, edited'));
    const after = await catalog.get('sample');
    expect(after?.version).not.toBe(before?.version);
    expect(after?.runbook.title).toBe('Sample, edited');
    expect(before?.runbook.title).toBe('Sample');
  });

  it('forgets deleted files and stops serving a file once it breaks', async () => {
    write('sample.yaml', VALID);
    const catalog = new RunbookCatalog(dir);
    expect(await catalog.list()).toHaveLength(1);
    write('sample.yaml', `${VALID}bogus: 1\n`);
    expect(await catalog.get('sample')).toBeUndefined();
    rmSync(join(dir, 'sample.yaml'));
    expect(await catalog.list()).toEqual([]);
  });

  it('does not let a caller mutate the cached runbook', async () => {
    write('sample.yaml', VALID);
    const catalog = new RunbookCatalog(dir);
    const snapshot = await catalog.get('sample');
    if (snapshot) snapshot.runbook.title = 'changed';
    expect((await catalog.get('sample'))?.runbook.title).toBe('Sample');
  });

  it('reports a .yml shadowed by a .yaml with the same id', async () => {
    write('sample.yaml', VALID);
    write('sample.yml', VALID);
    const catalog = new RunbookCatalog(dir);
    expect(await catalog.validateAll()).toMatchObject([{ file: join(dir, 'sample.yml'), message: expect.stringContaining('sample.yaml') }]);
    expect((await catalog.get('sample'))?.source).toBe('sample.yaml');
  });
});

describe('validateRunbookFiles', () => {
  it('passes the shipped runbooks', async () => {
    const result = await validateRunbookFiles([RUNBOOKS_DIR]);
    const count = (await listRunbookFiles(RUNBOOKS_DIR)).length;
    expect(count).toBeGreaterThanOrEqual(8);
    expect(result).toEqual({ problems: [], checked: count });
    const lines: string[] = [];
    printValidation(result, (s) => lines.push(s));
    expect(lines).toEqual([`checked ${count} runbooks: no problems\n`]);
  });

  it('checks files and directories once each and prints one line per problem', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fireline-validate-'));
    try {
      writeFileSync(join(dir, 'sample.yaml'), VALID.replace('default: left', 'default: up'));
      const file = join(dir, 'sample.yaml');
      const result = await validateRunbookFiles([dir, file, join(dir, 'missing.yaml')]);
      expect(result.checked).toBe(1);
      const lines: string[] = [];
      printValidation(result, (s) => lines.push(s));
      expect(lines).toEqual([
        `${file}:14:16: phases.decide[0].default: default "up" is not one of the options\n`,
        `${join(dir, 'missing.yaml')}:1:1: no such file or directory\n`,
        'checked 1 runbook: 2 problems in 2 files\n',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
