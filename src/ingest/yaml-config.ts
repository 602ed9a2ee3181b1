import { readFileSync } from 'node:fs';
import { type Document, isAlias, isMap, isNode, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { z } from 'zod';
import { formatPath, type PathSegment, type Position, type RunbookPath, type RunbookProblem } from '../runbooks/check';
import { formatProblem } from '../runbooks/load';

/**
 * Reading a small YAML config file (integrations, routing) the way runbooks and targets are read: every
 * problem comes back as `file:line:col: path: message`, at the YAML node it is about.
 */
export type ConfigProblem = RunbookProblem;
export const formatConfigProblem: (p: ConfigProblem) => string = formatProblem;

/** Reports a problem at `path`; `onKey` points at the key rather than its value (unknown keys, names). */
export type At = (path: RunbookPath, message: string, onKey?: boolean) => ConfigProblem;

export type YamlRead =
  | { ok: true; data: unknown; at: At; missing: boolean }
  | { ok: false; problems: ConfigProblem[] };

const MAX_ALIAS_COUNT = 50;
const START: Position = { line: 1, col: 1 };

function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
}

export function sortProblems(problems: ConfigProblem[]): ConfigProblem[] {
  return [...problems].sort((a, b) => a.line - b.line || a.col - b.col);
}

/** Reads and parses the file; a missing file is `missing: true` with empty data (the caller decides what it means). */
export function readYamlFile(file: string): YamlRead {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { ok: true, data: {}, at: (path, message) => ({ file, ...START, path: formatPath(path), message }), missing: true };
    return { ok: false, problems: [{ file, ...START, path: '', message: `cannot read the file (${code ?? messageOf(error)})` }] };
  }
  return parseYamlText(bytes, file);
}

export function parseYamlText(source: string | Uint8Array, file: string): YamlRead {
  let text: string;
  try {
    text = typeof source === 'string' ? source : new TextDecoder('utf-8', { fatal: true }).decode(source);
  } catch {
    return { ok: false, problems: [{ file, ...START, path: '', message: 'the file is not valid UTF-8 text' }] };
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  // After a syntax error yaml's recovery yields follow-on errors at lines that are fine: show the first only.
  const syntax = sortProblems([...doc.errors, ...doc.warnings].map(({ pos, message }) => ({ file, ...lines.linePos(pos[0]), path: '', message })));
  if (syntax[0]) return { ok: false, problems: [syntax[0]] };
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    return { ok: false, problems: [{ file, ...START, path: '', message: messageOf(error) }] };
  }
  // An empty file (or only comments) configures nothing.
  if (data === null || data === undefined) data = {};
  const locate = locator(doc, lines, false);
  const locateKey = locator(doc, lines, true);
  const at: At = (path, message, onKey = false) => ({ file, ...(onKey ? locateKey : locate)(path), path: formatPath(path), message });
  return { ok: true, data, at, missing: false };
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

function locator(doc: Document, lines: LineCounter, preferKey: boolean): (path: RunbookPath) => Position {
  return (path) => {
    const range = nodeAt(doc, path, preferKey)?.range;
    return range ? lines.linePos(range[0]) : START;
  };
}

// --- Readable zod issues ---------------------------------------------------------------------------------

type Issue = z.core.$ZodIssue;
type AnySchema = z.core.$ZodType;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function valueAt(data: unknown, path: RunbookPath): unknown {
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
  const words: Record<string, string> = { object: 'a mapping', record: 'a mapping', array: 'a list', string: 'text', null: 'nothing' };
  return words[name] ?? `a ${name}`;
}

export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return describeType('null');
  if (Array.isArray(value)) return describeType('array');
  if (typeof value === 'object') return describeType('object');
  return `${describeType(typeof value)} ${JSON.stringify(value)}`;
}

/** Strips wrappers and picks the union member the data selects; undefined where the shape is unknown. */
function unwrap(schema: AnySchema, value: unknown): AnySchema | undefined {
  if (schema instanceof z.ZodDefault || schema instanceof z.ZodOptional) return unwrap(schema.unwrap() as AnySchema, value);
  if (schema instanceof z.ZodPipe) return unwrap(schema._zod.def.in, value);
  if (schema instanceof z.ZodDiscriminatedUnion) {
    const key = schema._zod.def.discriminator;
    const tag = isRecord(value) ? value[key] : undefined;
    return schema.options.find((option) => [...(option._zod.propValues?.[key] ?? [])].some((v) => v === tag));
  }
  return schema;
}

/** The keys the schema allows in the mapping at `path`, for "did you mean". */
function knownKeys(root: AnySchema, path: RunbookPath, data: unknown): string[] {
  let schema: AnySchema | undefined = root;
  for (const [index, segment] of path.entries()) {
    const inner: AnySchema | undefined = schema && unwrap(schema, valueAt(data, path.slice(0, index)));
    if (inner instanceof z.ZodObject && typeof segment === 'string') schema = inner.shape[segment];
    else if (inner instanceof z.ZodArray && typeof segment === 'number') schema = inner.element;
    else if (inner instanceof z.ZodRecord && typeof segment === 'string') schema = inner.valueType;
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

function closestKey(key: string, known: readonly string[]): string | undefined {
  const limit = Math.min(2, Math.floor(key.length / 3));
  let best: { key: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance <= limit && (!best || distance < best.distance)) best = { key: candidate, distance };
  }
  return best?.key;
}

function unknownKeyMessage(key: string, known: readonly string[]): string {
  if (known.length === 0) return `unknown key "${key}"`;
  const close = closestKey(key, known);
  return close ? `unknown key "${key}" (did you mean "${close}"?)` : `unknown key "${key}" (expected one of ${known.join(', ')})`;
}

function sizeMessage(bound: 'at least' | 'at most', origin: string, limit: number | bigint): string {
  const n = Number(limit);
  if (origin === 'array') return `needs ${bound} ${n} item${n === 1 ? '' : 's'}`;
  if (origin === 'string') return n === 1 && bound === 'at least' ? 'must not be empty' : `must be ${bound} ${n} characters`;
  return `must be ${bound} ${n}`;
}

/** zod issues → positioned problems; `rootShape` describes the file as a whole for a wrong top-level type. */
export function zodProblems(error: z.ZodError, schema: AnySchema, data: unknown, at: At, rootShape: string): ConfigProblem[] {
  return error.issues.flatMap((issue: Issue) => {
    const path = issue.path.map((segment) => (typeof segment === 'number' ? segment : String(segment)));
    const value = valueAt(data, path);
    switch (issue.code) {
      case 'unrecognized_keys':
        return issue.keys.map((key) => at([...path, key], unknownKeyMessage(key, knownKeys(schema, path, data)), true));
      case 'invalid_key': {
        const name = String(path[path.length - 1]);
        return [at(path, `name ${JSON.stringify(name)}: ${issue.issues[0]?.message ?? 'not a valid name'}`, true)];
      }
      case 'invalid_type':
        if (isMissing(data, path)) return [at(path, `missing required key "${String(path[path.length - 1])}"`)];
        if (path.length === 0) return [at(path, `the file must be ${rootShape}, got ${describeValue(value)}`)];
        // A custom message (e.g. "secrets come from the environment") says more than the type names.
        if (!issue.message.startsWith('Invalid input')) return [at(path, issue.message)];
        return [at(path, `expected ${describeType(issue.expected)}, got ${describeValue(value)}`)];
      case 'invalid_union':
        if (issue.discriminator) {
          const options = 'options' in issue ? (issue.options ?? []) : [];
          const expected = `(expected one of ${options.map(String).join(', ')})`;
          return [at(path, value === undefined ? `missing ${issue.discriminator} ${expected}` : `unknown ${issue.discriminator} ${JSON.stringify(value)} ${expected}`)];
        }
        return [at(path, issue.message)];
      case 'invalid_value':
        return [at(path, `${describeValue(value)} is not one of: ${issue.values.map(String).join(', ')}`)];
      case 'too_small':
        return [at(path, sizeMessage('at least', issue.origin, issue.minimum))];
      case 'too_big':
        return [at(path, sizeMessage('at most', issue.origin, issue.maximum))];
      default:
        return [at(path, issue.message)];
    }
  });
}
