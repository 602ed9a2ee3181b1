import { readFileSync } from 'node:fs';
import { type Document, isAlias, isMap, isNode, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { z } from 'zod';
import {
  CommandSchema,
  DatabaseTargetSchema,
  EMPTY_TARGETS,
  SecretSchema,
  type Targets,
  TargetsSchema,
} from '../domain/targets';
import { formatPath, type Locate, type PathSegment, type Position, type RunbookPath, type RunbookProblem } from '../runbooks/check';
import { formatProblem } from '../runbooks/load';

/** A problem in config/targets.yaml, at the line and column of the YAML node it is about. */
export type TargetsProblem = RunbookProblem;

export type LoadTargetsResult =
  /** `warnings`: `${ENV_VAR}` references (and secrets) whose variable is not set in the env given. */
  | { ok: true; targets: Targets; warnings: TargetsProblem[] }
  | { ok: false; problems: TargetsProblem[] };

/** `file:line:col: path: message`, as for runbooks. */
export const formatTargetsProblem: (p: TargetsProblem) => string = formatProblem;

type Env = Record<string, string | undefined>;
type Issue = z.core.$ZodIssue;

const MAX_ALIAS_COUNT = 50;
const START: Position = { line: 1, col: 1 };
const ENV_REF = /^[A-Z][A-Z0-9_]*$/;
const SCOPED_REF = /^(incident|decision|params)\.[a-zA-Z0-9_-]+$/;
const PLACEHOLDER = /\$\{\s*([^}]*?)\s*\}/g;

/**
 * Reads config/targets.yaml: the databases, backups, commands and secrets runbooks refer to by name. A missing
 * file is no targets at all (runbooks that name one fail with a clear message when they run). With `env`,
 * `${ENV_VAR}` references that are unset there come back as warnings: they fail only when used.
 */
export function loadTargets(file: string, env?: Env): LoadTargetsResult {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { ok: true, targets: EMPTY_TARGETS, warnings: [] };
    const reason = (error as NodeJS.ErrnoException).code ?? messageOf(error);
    return { ok: false, problems: [{ file, ...START, path: '', message: `cannot read the file (${reason})` }] };
  }
  return parseTargets(bytes, file, env);
}

/** YAML text (or bytes) → schema-valid targets, or every problem found with its position. */
export function parseTargets(source: string | Uint8Array, file: string, env?: Env): LoadTargetsResult {
  const fail = (problems: TargetsProblem[]): LoadTargetsResult => ({ ok: false, problems: sortProblems(problems) });
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
  // An empty file (or only comments) configures nothing.
  if (data === null || data === undefined) data = {};

  const locate = locator(doc, lines, false);
  const locateKey = locator(doc, lines, true);
  const at = (path: RunbookPath, message: string, onKey = false): TargetsProblem => ({
    file,
    ...(onKey ? locateKey : locate)(path),
    path: formatPath(path),
    message,
  });

  const parsed = TargetsSchema.safeParse(data);
  const problems = parsed.success ? [] : parsed.error.issues.flatMap((issue) => issueProblems(issue, data, at));
  problems.push(...placeholderProblems(data, at));
  if (!parsed.success || problems.length > 0) return fail(problems);

  return { ok: true, targets: parsed.data, warnings: env ? sortProblems(envWarnings(parsed.data, data, env, at)) : [] };
}

type At = (path: RunbookPath, message: string, onKey?: boolean) => TargetsProblem;

// --- Checks the schema cannot express --------------------------------------------------------------------

interface Leaf {
  path: PathSegment[];
  value: string;
}

function stringLeaves(value: unknown, path: PathSegment[] = []): Leaf[] {
  if (typeof value === 'string') return [{ path, value }];
  if (Array.isArray(value)) return value.flatMap((item, index) => stringLeaves(item, [...path, index]));
  if (isRecord(value)) return Object.entries(value).flatMap(([key, item]) => stringLeaves(item, [...path, key]));
  return [];
}

/**
 * Targets resolve `${ENV_VAR}` references (upper case) only; command arguments may also use the runbook
 * placeholders `${incident.x}`, `${decision.x}` and `${params.x}`. Anything else would reach the target
 * as literal text, so it is reported here rather than at 3 a.m.
 */
function placeholderProblems(data: unknown, at: At): TargetsProblem[] {
  const problems: TargetsProblem[] = [];
  for (const leaf of stringLeaves(data)) {
    const inArgv = leaf.path[0] === 'commands' && leaf.path.includes('argv');
    for (const match of leaf.value.matchAll(PLACEHOLDER)) {
      const ref = match[1] ?? '';
      if (ENV_REF.test(ref) || (inArgv && SCOPED_REF.test(ref))) continue;
      const allowed = inArgv ? '${ENV_VAR}, ${incident.field}, ${decision.step} or ${params.name}' : '${ENV_VAR} (upper case)';
      problems.push(at(leaf.path, `${match[0]} is not a reference Fireline resolves here (use ${allowed})`));
    }
  }
  return problems;
}

function envWarnings(targets: Targets, data: unknown, env: Env, at: At): TargetsProblem[] {
  const warnings: TargetsProblem[] = [];
  for (const leaf of stringLeaves(data)) {
    if (leaf.path[0] === 'secrets') continue;
    const missing = new Set<string>();
    for (const match of leaf.value.matchAll(PLACEHOLDER)) {
      const ref = match[1] ?? '';
      if (ENV_REF.test(ref) && !env[ref]) missing.add(ref);
    }
    for (const name of missing) warnings.push(at(leaf.path, `${name} is not set: steps using this target will fail until it is`));
  }
  for (const [name, secret] of Object.entries(targets.secrets)) {
    if (!env[secret.env]) warnings.push(at(['secrets', name, 'env'], `${secret.env} is not set: actions signed with "${name}" will fail until it is`));
  }
  return warnings;
}

// --- Positions (as in src/runbooks/load.ts) --------------------------------------------------------------

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

function issueProblems(issue: Issue, data: unknown, at: At): TargetsProblem[] {
  const path = issue.path.map((segment) => (typeof segment === 'number' ? segment : String(segment)));
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => at([...path, key], unknownKeyMessage(key, knownKeys(path)), true));
    case 'invalid_key': {
      const name = String(path[path.length - 1]);
      return [at(path, `name ${JSON.stringify(name)}: ${issue.issues[0]?.message ?? 'not a valid name'}`, true)];
    }
    default:
      return [at(path, issueMessage(issue, path, data))];
  }
}

function issueMessage(issue: Issue, path: PathSegment[], data: unknown): string {
  const value = valueAt(data, path);
  switch (issue.code) {
    case 'invalid_type':
      if (isMissing(data, path)) return `missing required key "${String(path[path.length - 1])}"`;
      if (path.length === 0) return `the file must be a mapping with databases, backups, commands and secrets, got ${describeValue(value)}`;
      return `expected ${describeType(issue.expected)}, got ${describeValue(value)}`;
    case 'invalid_union':
      if (issue.discriminator) {
        const options = 'options' in issue ? (issue.options ?? []) : [];
        const expected = `(expected one of ${options.map(String).join(', ')})`;
        return value === undefined ? `missing ${issue.discriminator} ${expected}` : `unknown ${issue.discriminator} ${JSON.stringify(value)} ${expected}`;
      }
      return issue.message;
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

/** The keys allowed in the mapping at `path`, for "did you mean". */
function knownKeys(path: RunbookPath): string[] {
  const [section, , sub, ...rest] = path;
  if (path.length === 0) return Object.keys(TargetsSchema.shape);
  if (rest.length > 0) return [];
  const drill = sub === 'drill';
  if (sub !== undefined && !drill) return [];
  if (path.length === 1) return [];
  if (section === 'databases') return [...Object.keys(DatabaseTargetSchema.shape), ...(drill ? [] : ['drill'])];
  if (section === 'commands') return [...Object.keys(CommandSchema.shape), ...(drill ? [] : ['drill'])];
  if (section === 'secrets' && !drill) return Object.keys(SecretSchema.shape);
  return [];
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

function sortProblems(problems: TargetsProblem[]): TargetsProblem[] {
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
