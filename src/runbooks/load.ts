import { createHash } from 'node:crypto';
import { basename, extname } from 'node:path';
import { type Document, isAlias, isMap, isNode, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { z } from 'zod';
import { type Runbook, RunbookSchema } from '../domain/runbook';
import {
  checkRunbook,
  formatPath,
  type Locate,
  type PathSegment,
  type Position,
  type RunbookPath,
  type RunbookProblem,
  type RunbookRule,
} from './check';
import type { RuleContext } from './check';

export type { RunbookProblem } from './check';

export type ParseResult =
  | { ok: true; runbook: Runbook; version: string }
  /** `version` is there too so lists can show which bytes were rejected. */
  | { ok: false; problems: RunbookProblem[]; version: string };

export interface ParseOptions extends Omit<RuleContext, 'fileId'> {
  /** Replaces the default semantic rules (tests). */
  rules?: readonly RunbookRule[];
}

type Issue = z.core.$ZodIssue;

/** Aliases can multiply a small file into a huge value; runbooks have no reason to use many. */
const MAX_ALIAS_COUNT = 50;
const START: Position = { line: 1, col: 1 };

/** The id a runbook in this file must have: `runbooks/order-db-outage.yaml` → `order-db-outage`. */
export function runbookIdFromFile(file: string): string {
  return basename(file, extname(file));
}

/** sha256 of the exact bytes, hex: the version an incident pins. */
export function runbookVersion(bytes: string | Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function formatProblem(p: RunbookProblem): string {
  return p.path ? `${p.file}:${p.line}:${p.col}: ${p.path}: ${p.message}` : `${p.file}:${p.line}:${p.col}: ${p.message}`;
}

/**
 * YAML text (or the file's bytes) → a schema-valid, semantically checked runbook, or every problem found,
 * each with the line and column of the YAML node it is about.
 */
export function parseRunbook(source: string | Uint8Array, file: string, options: ParseOptions = {}): ParseResult {
  const version = runbookVersion(source);
  const fail = (problems: RunbookProblem[]): ParseResult => ({ ok: false, problems: sortProblems(problems), version });

  const text = decode(source);
  if (text === undefined) return fail([{ file, ...START, path: '', message: 'the file is not valid UTF-8 text' }]);

  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  // Warnings (unknown tags, bad directives) count too: a runbook should mean exactly what it says. Only the
  // first is reported, and schema checks are skipped: after a syntax error yaml's recovery yields follow-on
  // errors and values that point at lines which are fine.
  const syntax = sortProblems(
    [...doc.errors, ...doc.warnings].map(({ pos, message }) => ({ file, ...lines.linePos(pos[0]), path: '', message })),
  );
  if (syntax[0]) return fail([syntax[0]]);

  const data = toData(doc);
  if (!data.ok) return fail([{ file, ...START, path: '', message: data.message }]);

  const locate = locator(doc, lines, false);
  const parsed = RunbookSchema.safeParse(data.value);
  if (!parsed.success) {
    const locateKey = locator(doc, lines, true);
    return fail(parsed.error.issues.flatMap((issue) => issueProblems(issue, data.value, file, locate, locateKey)));
  }

  const problems = checkRunbook(parsed.data, { ...options, file, locate, fileId: runbookIdFromFile(file) });
  return problems.length > 0 ? fail(problems) : { ok: true, runbook: parsed.data, version };
}

function decode(source: string | Uint8Array): string | undefined {
  if (typeof source === 'string') return source;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(source);
  } catch {
    return undefined;
  }
}

function toData(doc: Document): { ok: true; value: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, value: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) };
  } catch (error) {
    return { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
}

function sortProblems(problems: RunbookProblem[]): RunbookProblem[] {
  return [...problems].sort((a, b) => a.line - b.line || a.col - b.col);
}

// --- Positions -------------------------------------------------------------------------------------------

interface Child {
  key?: Node;
  value?: Node;
}

function keyText(key: unknown): string {
  return String(isScalar(key) ? key.value : key);
}

function childOf(doc: Document, parent: unknown, segment: PathSegment): Child | undefined {
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

/**
 * Walks the YAML nodes along `path` (like `doc.getIn(path, true)`, but through aliases and to key nodes)
 * and answers the deepest node that exists: a missing key is reported at its parent mapping.
 */
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

function toPath(path: readonly PropertyKey[]): PathSegment[] {
  return path.map((segment) => (typeof segment === 'number' ? segment : String(segment)));
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

/** Type names as a YAML author thinks of them. */
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

function listValues(values: readonly unknown[]): string {
  return values.map(String).join(', ');
}

function issueProblems(issue: Issue, data: unknown, file: string, locate: Locate, locateKey: Locate): RunbookProblem[] {
  const path = toPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => {
      const keyPath = [...path, key];
      return { file, ...locateKey(keyPath), path: formatPath(keyPath), message: unknownKeyMessage(key, path, data) };
    });
  }
  return [{ file, ...locate(path), path: formatPath(path), message: issueMessage(issue, path, data) }];
}

function issueMessage(issue: Issue, path: RunbookPath, data: unknown): string {
  const value = valueAt(data, path);
  switch (issue.code) {
    case 'invalid_type':
      if (isMissing(data, path)) return `missing required key "${String(path[path.length - 1])}"`;
      if (path.length === 0) return `a runbook must be ${describeType('object')} with id, title, owner and phases, got ${describeValue(value)}`;
      return `expected ${describeType(issue.expected)}, got ${describeValue(value)}`;
    case 'invalid_union':
      if (!issue.discriminator) return issue.message;
      return discriminatorMessage(issue.discriminator, 'options' in issue ? (issue.options ?? []) : [], path, value);
    case 'invalid_value':
      return `${describeValue(value)} is not one of: ${listValues(issue.values)}`;
    case 'too_small':
      return sizeMessage('at least', issue.origin, issue.minimum, issue.inclusive !== false);
    case 'too_big':
      return sizeMessage('at most', issue.origin, issue.maximum, issue.inclusive !== false);
    default:
      return issue.message;
  }
}

/** The options come from the schema's union, so adding a step kind updates the message. */
function discriminatorMessage(discriminator: string, options: readonly unknown[], path: RunbookPath, value: unknown): string {
  const noun = path[0] === 'phases' && discriminator === 'kind' ? 'step kind' : discriminator;
  const expected = `(expected one of ${listValues(options)})`;
  return value === undefined ? `missing ${noun} ${expected}` : `unknown ${noun} ${JSON.stringify(value)} ${expected}`;
}

function sizeMessage(bound: 'at least' | 'at most', origin: string, limit: number | bigint, inclusive: boolean): string {
  const n = Number(limit);
  if (origin === 'array') return `needs ${bound} ${inclusive ? n : bound === 'at least' ? n + 1 : n - 1} items`;
  if (origin === 'string') return n === 1 && bound === 'at least' ? 'must not be empty' : `must be ${bound} ${n} characters`;
  if (inclusive) return `must be ${bound} ${n}`;
  return `must be ${bound === 'at least' ? 'greater' : 'less'} than ${n}`;
}

function unknownKeyMessage(key: string, objectPath: RunbookPath, data: unknown): string {
  const known = knownKeys(objectPath, data);
  if (known.length === 0) return `unknown key "${key}"`;
  const close = closestKey(key, known);
  return close ? `unknown key "${key}" (did you mean "${close}"?)` : `unknown key "${key}" (expected one of ${known.join(', ')})`;
}

// --- What the schema allows at a path (for "did you mean") -----------------------------------------------

type AnySchema = z.core.$ZodType;

/** Strips wrappers and picks the union member the data selects; undefined where the shape is unknown. */
function unwrap(schema: AnySchema, value: unknown): AnySchema | undefined {
  if (schema instanceof z.ZodDefault || schema instanceof z.ZodOptional) return unwrap(schema.unwrap(), value);
  if (schema instanceof z.ZodDiscriminatedUnion) {
    const key = schema._zod.def.discriminator;
    const tag = isRecord(value) ? value[key] : undefined;
    return schema.options.find((option) => [...(option._zod.propValues?.[key] ?? [])].some((v) => v === tag));
  }
  return schema;
}

function knownKeys(path: RunbookPath, data: unknown): string[] {
  let schema: AnySchema | undefined = RunbookSchema;
  for (const [index, segment] of path.entries()) {
    const inner: AnySchema | undefined = schema && unwrap(schema, valueAt(data, path.slice(0, index)));
    if (inner instanceof z.ZodObject && typeof segment === 'string') schema = inner.shape[segment];
    else if (inner instanceof z.ZodArray && typeof segment === 'number') schema = inner.element;
    else return [];
  }
  const target = schema && unwrap(schema, valueAt(data, path));
  return target instanceof z.ZodObject ? Object.keys(target.shape) : [];
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

/** A typo is one edit away in a short key, two in a longer one; further than that a suggestion misleads. */
function closestKey(key: string, known: readonly string[]): string | undefined {
  const limit = Math.min(2, Math.floor(key.length / 3));
  let best: { key: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance <= limit && (!best || distance < best.distance)) best = { key: candidate, distance };
  }
  return best?.key;
}
