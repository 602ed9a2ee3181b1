import { readFileSync } from 'node:fs';
import { DateTime } from 'luxon';
import { type Document, isAlias, isMap, isNode, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { z } from 'zod';
import { CHANNEL_ADDRESS, CHANNELS, EMPTY_ONCALL, type EscalationTarget, type OnCallConfig, OnCallConfigSchema } from '../domain/oncall';
import { formatPath, type Locate, type PathSegment, type Position, type RunbookPath, type RunbookProblem } from '../runbooks/check';
import { formatProblem } from '../runbooks/load';

/** A problem in config/oncall.yaml, at the line and column of the YAML node it is about. */
export type OnCallProblem = RunbookProblem;

export type LoadOnCallResult = { ok: true; config: OnCallConfig } | { ok: false; problems: OnCallProblem[] };

/** `file:line:col: path: message`, as for runbooks and targets. */
export const formatOnCallProblem: (p: OnCallProblem) => string = formatProblem;

export class OnCallConfigError extends Error {
  constructor(readonly problems: OnCallProblem[]) {
    super(`config/oncall.yaml has problems:\n${problems.map((p) => `  ${formatOnCallProblem(p)}`).join('\n')}`);
    this.name = 'OnCallConfigError';
  }
}

type Issue = z.core.$ZodIssue;
type At = (path: RunbookPath, message: string, onKey?: boolean) => OnCallProblem;

const MAX_ALIAS_COUNT = 50;
const START: Position = { line: 1, col: 1 };
/** `GET /api/v1/oncall/policies/:id` shares the path segment with schedule ids. */
const RESERVED_SCHEDULE_IDS = new Set(['policies']);

/**
 * Reads config/oncall.yaml. A missing file is an empty configuration (no people, schedules or policies):
 * runbooks that name a policy then fail their check with a clear message.
 */
export function loadOnCall(file: string): LoadOnCallResult {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { ok: true, config: EMPTY_ONCALL };
    const reason = (error as NodeJS.ErrnoException).code ?? messageOf(error);
    return { ok: false, problems: [{ file, ...START, path: '', message: `cannot read the file (${reason})` }] };
  }
  return parseOnCall(bytes, file);
}

/** The configuration, or an OnCallConfigError listing every problem as `file:line:col: path: message`. */
export function loadOnCallOrFail(file: string): OnCallConfig {
  const result = loadOnCall(file);
  if (!result.ok) throw new OnCallConfigError(result.problems);
  return result.config;
}

/** YAML text (or bytes) → a schema-valid configuration whose names all resolve, or every problem found. */
export function parseOnCall(source: string | Uint8Array, file: string): LoadOnCallResult {
  const fail = (problems: OnCallProblem[]): LoadOnCallResult => ({ ok: false, problems: sortProblems(problems) });
  const text = decode(source);
  if (text === undefined) return fail([{ file, ...START, path: '', message: 'the file is not valid UTF-8 text' }]);

  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  // As for runbooks: after a syntax error only the first is worth showing.
  const syntax = sortProblems([...doc.errors, ...doc.warnings].map(({ pos, message }) => ({ file, ...lines.linePos(pos[0]), path: '', message })));
  if (syntax[0]) return fail([syntax[0]]);

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    return fail([{ file, ...START, path: '', message: messageOf(error) }]);
  }
  if (data === null || data === undefined) data = {};

  const locate = locator(doc, lines, false);
  const locateKey = locator(doc, lines, true);
  const at: At = (path, message, onKey = false) => ({ file, ...(onKey ? locateKey : locate)(path), path: formatPath(path), message });

  const parsed = OnCallConfigSchema.safeParse(data);
  if (!parsed.success) return fail(parsed.error.issues.flatMap((issue) => issueProblems(issue, data, at)));
  const problems = semanticProblems(parsed.data, at);
  return problems.length > 0 ? fail(problems) : { ok: true, config: parsed.data };
}

// --- Checks across sections -------------------------------------------------------------------------------

function duplicateIds(items: readonly { id: string }[], section: string, at: At): OnCallProblem[] {
  const first = new Map<string, number>();
  return items.flatMap((item, i) => {
    const earlier = first.get(item.id);
    if (earlier === undefined) {
      first.set(item.id, i);
      return [];
    }
    return [at([section, i, 'id'], `duplicate id "${item.id}" (also ${section}[${earlier}])`)];
  });
}

function semanticProblems(config: OnCallConfig, at: At): OnCallProblem[] {
  const problems: OnCallProblem[] = [
    ...duplicateIds(config.people, 'people', at),
    ...duplicateIds(config.schedules, 'schedules', at),
    ...duplicateIds(config.escalationPolicies, 'escalationPolicies', at),
  ];
  const people = new Set(config.people.map((p) => p.id));
  const schedules = new Set(config.schedules.map((s) => s.id));
  const knownPerson = (id: string, path: RunbookPath) => {
    if (!people.has(id)) problems.push(at(path, `unknown person "${id}" (people: ${[...people].join(', ') || 'none'})`));
  };

  for (const [i, person] of config.people.entries()) {
    if (!CHANNELS.some((c) => person[CHANNEL_ADDRESS[c]] !== undefined)) {
      problems.push(at(['people', i], `person "${person.id}" has no email, slack or webhook: nobody could page them`));
    }
    for (const [j, rule] of person.contact.entries()) {
      const address = CHANNEL_ADDRESS[rule.channel];
      if (person[address] === undefined) problems.push(at(['people', i, 'contact', j, 'channel'], `contact by ${rule.channel} needs "${address}" on the person`));
    }
  }

  for (const [i, schedule] of config.schedules.entries()) {
    if (RESERVED_SCHEDULE_IDS.has(schedule.id)) problems.push(at(['schedules', i, 'id'], `"${schedule.id}" is reserved (it is a path in the API); choose another id`));
    for (const [j, layer] of schedule.layers.entries()) {
      for (const [k, member] of layer.members.entries()) knownPerson(member, ['schedules', i, 'layers', j, 'members', k]);
    }
    for (const [j, o] of schedule.overrides.entries()) {
      knownPerson(o.person, ['schedules', i, 'overrides', j, 'person']);
      const from = DateTime.fromISO(o.from, { zone: schedule.timeZone });
      const to = DateTime.fromISO(o.to, { zone: schedule.timeZone });
      if (from.isValid && to.isValid && to <= from) problems.push(at(['schedules', i, 'overrides', j, 'to'], `must be after from (${o.from})`));
    }
  }

  const checkTarget = (target: EscalationTarget, path: RunbookPath) => {
    if ('person' in target) knownPerson(target.person, [...path, 'person']);
    else if (!schedules.has(target.schedule)) {
      problems.push(at([...path, 'schedule'], `unknown schedule "${target.schedule}" (schedules: ${[...schedules].join(', ') || 'none'})`));
    }
  };
  for (const [i, policy] of config.escalationPolicies.entries()) {
    for (const [j, level] of policy.levels.entries()) {
      for (const [k, target] of level.targets.entries()) checkTarget(target, ['escalationPolicies', i, 'levels', j, 'targets', k]);
    }
    if (policy.fallback) checkTarget(policy.fallback, ['escalationPolicies', i, 'fallback']);
  }
  return problems;
}

// --- Positions (as in src/targets/load.ts) --------------------------------------------------------------

function keyText(key: unknown): string {
  return String(isScalar(key) ? key.value : key);
}

function childOf(doc: Document, parent: unknown, segment: PathSegment): { key?: Node; value?: Node } | undefined {
  const node = isAlias(parent) ? parent.resolve(doc) : parent;
  if (isMap(node)) {
    const pair = node.items.find((item) => keyText(item.key) === String(segment));
    if (!pair) return undefined;
    return { key: isNode(pair.key) ? pair.key : undefined, value: isNode(pair.value) ? pair.value : undefined };
  }
  if (isSeq(node) && typeof segment === 'number') {
    const item = node.items[segment];
    return isNode(item) ? { value: item } : undefined;
  }
  return undefined;
}

/** The deepest node along `path` that exists: a missing key is reported at its parent mapping. */
function nodeAt(doc: Document, path: RunbookPath, preferKey: boolean): Node | undefined {
  let current: unknown = doc.contents;
  let found: Node | undefined = isNode(current) ? current : undefined;
  for (const [index, segment] of path.entries()) {
    const child = childOf(doc, current, segment);
    if (!child) break;
    const isLast = index === path.length - 1;
    found = (isLast && preferKey ? child.key : undefined) ?? child.value ?? child.key ?? found;
    current = child.value;
  }
  return found;
}

function locator(doc: Document, lines: LineCounter, preferKey: boolean): Locate {
  return (path) => {
    const range = nodeAt(doc, path, preferKey)?.range;
    return range ? lines.linePos(range[0]) : START;
  };
}

// --- Readable zod issues ---------------------------------------------------------------------------------

function issueProblems(issue: Issue, data: unknown, at: At): OnCallProblem[] {
  const path = issue.path.map((segment) => (typeof segment === 'number' ? segment : String(segment)));
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => at([...path, key], unknownKeyMessage(key, knownKeys(path)), true));
  }
  return [at(path, issueMessage(issue, path, data))];
}

function issueMessage(issue: Issue, path: PathSegment[], data: unknown): string {
  const value = valueAt(data, path);
  switch (issue.code) {
    case 'invalid_type':
      if (isMissing(data, path)) return `missing required key "${String(path[path.length - 1])}"`;
      if (path.length === 0) return `the file must be a mapping with people, schedules and escalationPolicies, got ${describeValue(value)}`;
      return `expected ${describeType(issue.expected)}, got ${describeValue(value)}`;
    case 'invalid_value':
      return `${describeValue(value)} is not one of: ${issue.values.map(String).join(', ')}`;
    case 'too_small':
      return sizeMessage('at least', issue.origin, issue.minimum);
    case 'too_big':
      return sizeMessage('at most', issue.origin, issue.maximum);
    default:
      return issue.message;
  }
}

function sizeMessage(bound: 'at least' | 'at most', origin: string, limit: number | bigint): string {
  const n = Number(limit);
  if (origin === 'array') return `needs ${bound} ${n} item${n === 1 ? '' : 's'}`;
  if (origin === 'string') return n === 1 && bound === 'at least' ? 'must not be empty' : `must be ${bound} ${n} characters`;
  return `must be ${bound} ${n}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function valueAt(data: unknown, path: RunbookPath): unknown {
  let current = data;
  for (const segment of path) {
    if (Array.isArray(current) && typeof segment === 'number') current = current[segment];
    else if (isRecord(current)) current = current[String(segment)];
    else return undefined;
  }
  return current;
}

function isMissing(data: unknown, path: RunbookPath): boolean {
  if (path.length === 0) return false;
  const parent = valueAt(data, path.slice(0, -1));
  return isRecord(parent) && !Object.hasOwn(parent, String(path[path.length - 1]));
}

function describeType(name: string): string {
  const words: Record<string, string> = { object: 'a mapping', array: 'a list', string: 'text', null: 'nothing' };
  return words[name] ?? `a ${name}`;
}

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return describeType('null');
  if (Array.isArray(value)) return describeType('array');
  if (typeof value === 'object') return describeType('object');
  return `${describeType(typeof value)} ${JSON.stringify(value)}`;
}

// --- What the schema allows at a path (for "did you mean") -----------------------------------------------

type AnySchema = z.core.$ZodType;

function unwrap(schema: AnySchema): AnySchema {
  if (schema instanceof z.ZodDefault || schema instanceof z.ZodOptional) return unwrap(schema.unwrap());
  if (schema instanceof z.ZodPipe) return unwrap(schema.in);
  return schema;
}

function knownKeys(path: RunbookPath): string[] {
  let schema: AnySchema = OnCallConfigSchema;
  for (const segment of path) {
    const inner = unwrap(schema);
    const next: AnySchema | undefined =
      inner instanceof z.ZodObject && typeof segment === 'string' ? inner.shape[segment] : inner instanceof z.ZodArray && typeof segment === 'number' ? inner.element : undefined;
    if (!next) return [];
    schema = next;
  }
  const target = unwrap(schema);
  return target instanceof z.ZodObject ? Object.keys(target.shape) : [];
}

function unknownKeyMessage(key: string, known: readonly string[]): string {
  if (known.length === 0) return `unknown key "${key}"`;
  const close = closestKey(key, known);
  return close ? `unknown key "${key}" (did you mean "${close}"?)` : `unknown key "${key}" (expected one of ${known.join(', ')})`;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      row.push(Math.min((previous[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, substitution));
    }
    previous = row;
  }
  return previous[b.length] ?? 0;
}

function closestKey(key: string, known: readonly string[]): string | undefined {
  const limit = Math.min(2, Math.floor(key.length / 3));
  let best: { key: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance <= limit && (!best || distance < best.distance)) best = { key: candidate, distance };
  }
  return best?.key;
}

function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
}

function sortProblems(problems: OnCallProblem[]): OnCallProblem[] {
  return [...problems].sort((a, b) => a.line - b.line || a.col - b.col);
}

function decode(source: string | Uint8Array): string | undefined {
  if (typeof source === 'string') return source;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(source);
  } catch {
    return undefined;
  }
}
