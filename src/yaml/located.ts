import { readFileSync } from 'node:fs';
import { type Document, isAlias, isMap, isNode, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { z } from 'zod';
import { formatPath, type Locate, type PathSegment, type Position, type RunbookPath, type RunbookProblem } from '../runbooks/check';

/**
 * YAML files read with positions (runbooks, config/targets.yaml, config/oncall.yaml, config/integrations.yaml,
 * config/routing.yaml): every problem is `file:line:col: path: message`, at the YAML node it is about.
 */
export type YamlProblem = RunbookProblem;

/** Reports a problem at `path`; `onKey` points at the key rather than its value (unknown keys, names). */
export type At = (path: RunbookPath, message: string, onKey?: boolean) => YamlProblem;

/** Aliases can multiply a small file into a huge value; none of these files has a reason to use many. */
const MAX_ALIAS_COUNT = 50;
export const START: Position = { line: 1, col: 1 };

export function formatProblem(p: YamlProblem): string {
  return p.path ? `${p.file}:${p.line}:${p.col}: ${p.path}: ${p.message}` : `${p.file}:${p.line}:${p.col}: ${p.message}`;
}

export function sortProblems(problems: YamlProblem[]): YamlProblem[] {
  return [...problems].sort((a, b) => a.line - b.line || a.col - b.col);
}

function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
}

/** A problem with the file as a whole, reported at its start. */
function fileProblem(file: string, message: string): YamlProblem {
  return { file, ...START, path: '', message };
}

// --- Reading and parsing ---------------------------------------------------------------------------------

/** `bytes` is undefined when the file does not exist: each caller decides what that means. */
export type FileRead = { ok: true; bytes: Buffer | undefined } | { ok: false; problems: YamlProblem[] };

export function readYamlBytes(file: string): FileRead {
  try {
    return { ok: true, bytes: readFileSync(file) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { ok: true, bytes: undefined };
    return { ok: false, problems: [fileProblem(file, `cannot read the file (${code ?? messageOf(error)})`)] };
  }
}

/** `data` is what the YAML says (null for an empty file); `locate` finds a path's value. */
export type YamlParse = { ok: true; data: unknown; at: At; locate: Locate } | { ok: false; problems: YamlProblem[] };

/** YAML text, or bytes that must be UTF-8, → the data and where each path sits; or the one problem that stops it. */
export function parseYaml(source: string | Uint8Array, file: string): YamlParse {
  let text: string;
  try {
    text = typeof source === 'string' ? source : new TextDecoder('utf-8', { fatal: true }).decode(source);
  } catch {
    return { ok: false, problems: [fileProblem(file, 'the file is not valid UTF-8 text')] };
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  // Warnings (unknown tags, bad directives) count too: a file should mean exactly what it says. Only the first
  // is reported, and nothing else is checked: after a syntax error yaml's recovery yields follow-on errors and
  // values that point at lines which are fine.
  const syntax = sortProblems(
    [...doc.errors, ...doc.warnings].map(({ pos, message }) => ({ file, ...lines.linePos(pos[0]), path: '', message })),
  );
  if (syntax[0]) return { ok: false, problems: [syntax[0]] };
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    return { ok: false, problems: [fileProblem(file, messageOf(error))] };
  }
  const locate = locator(doc, lines, false);
  const locateKey = locator(doc, lines, true);
  const at: At = (path, message, onKey = false) => ({ file, ...(onKey ? locateKey : locate)(path), path: formatPath(path), message });
  return { ok: true, data, at, locate };
}

// --- Positions -------------------------------------------------------------------------------------------

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

type AnySchema = z.core.$ZodType;

export interface IssueWording {
  /** What the file must be, for a top level of the wrong type: `${root}, got a list`. */
  root: string;
  /** The file's schema: where a key is unknown, "did you mean" offers the keys it allows there. */
  schema: AnySchema;
  /** How union messages name the discriminator (runbooks call a step's `kind` its "step kind"). */
  discriminator?: (name: string, path: RunbookPath) => string;
  /** A schema's own message for a wrong type replaces "expected …, got …" (integrations: literal secrets). */
  ownTypeMessages?: boolean;
  /**
   * Wording runbooks and targets had before the loaders shared this code, kept so that none of their messages
   * changed. Dropping an entry gives that file the shared wording.
   */
  legacy?: {
    /** Runbooks, targets: "expected a record" for a mapping of names. */
    record?: true;
    /** Runbooks: zod's "Invalid key in record" at the value, not the name's own message at the key. */
    invalidKey?: true;
    /** Runbooks: "needs at least 1 items". */
    items?: true;
    /** "did you mean" does not look inside these: runbooks' mappings of names, targets' backup providers. */
    hintsStopAt?: 'records' | 'unions';
  };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
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

/** Type names as a YAML author thinks of them. */
function describeType(name: string, record = 'a mapping'): string {
  const words: Record<string, string> = { object: 'a mapping', record, array: 'a list', string: 'text', null: 'nothing' };
  return words[name] ?? `a ${name}`;
}

export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return describeType('null');
  if (Array.isArray(value)) return describeType('array');
  if (typeof value === 'object') return describeType('object');
  return `${describeType(typeof value)} ${JSON.stringify(value)}`;
}

function listValues(values: readonly unknown[]): string {
  return values.map(String).join(', ');
}

/** Strips wrappers and picks the union member the data selects; undefined where the shape is unknown. */
function unwrap(schema: AnySchema, value: unknown, unions: boolean): AnySchema | undefined {
  if (schema instanceof z.ZodDefault || schema instanceof z.ZodOptional) return unwrap(schema.unwrap() as AnySchema, value, unions);
  if (schema instanceof z.ZodPipe) return unwrap(schema._zod.def.in, value, unions);
  if (schema instanceof z.ZodDiscriminatedUnion && unions) {
    const key = schema._zod.def.discriminator;
    const tag = isRecord(value) ? value[key] : undefined;
    return schema.options.find((option) => [...(option._zod.propValues?.[key] ?? [])].some((v) => v === tag));
  }
  return schema;
}

/** The keys the schema allows in the mapping at `path`. */
function knownKeys(root: AnySchema, path: RunbookPath, data: unknown, stopAt?: 'records' | 'unions'): string[] {
  const unions = stopAt !== 'unions';
  let schema: AnySchema | undefined = root;
  for (const [index, segment] of path.entries()) {
    const inner: AnySchema | undefined = schema && unwrap(schema, valueAt(data, path.slice(0, index)), unions);
    if (inner instanceof z.ZodObject && typeof segment === 'string') schema = inner.shape[segment];
    else if (inner instanceof z.ZodArray && typeof segment === 'number') schema = inner.element;
    else if (inner instanceof z.ZodRecord && typeof segment === 'string' && stopAt !== 'records') schema = inner.valueType;
    else return [];
  }
  const target = schema && unwrap(schema, valueAt(data, path), unions);
  return target instanceof z.ZodObject ? Object.keys(target.shape) : [];
}

export function editDistance(a: string, b: string): number {
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

function unknownKeyMessage(key: string, known: readonly string[]): string {
  if (known.length === 0) return `unknown key "${key}"`;
  const close = closestKey(key, known);
  return close ? `unknown key "${key}" (did you mean "${close}"?)` : `unknown key "${key}" (expected one of ${known.join(', ')})`;
}

function sizeMessage(
  bound: 'at least' | 'at most',
  origin: string,
  limit: number | bigint,
  inclusive: boolean,
  alwaysItems: boolean,
): string {
  const n = Number(limit);
  const count = inclusive ? n : bound === 'at least' ? n + 1 : n - 1;
  if (origin === 'array') return `needs ${bound} ${count} item${count === 1 && !alwaysItems ? '' : 's'}`;
  if (origin === 'string') return n === 1 && bound === 'at least' ? 'must not be empty' : `must be ${bound} ${n} characters`;
  if (inclusive) return `must be ${bound} ${n}`;
  return `must be ${bound === 'at least' ? 'greater' : 'less'} than ${n}`;
}

/** zod issues → problems at the nodes they are about, in the words of YAML rather than of JavaScript. */
export function issueProblems(error: z.ZodError, data: unknown, at: At, wording: IssueWording): YamlProblem[] {
  const legacy = wording.legacy ?? {};
  return error.issues.flatMap((issue): YamlProblem[] => {
    const path = issue.path.map((segment) => (typeof segment === 'number' ? segment : String(segment)));
    const value = valueAt(data, path);
    switch (issue.code) {
      case 'unrecognized_keys':
        return issue.keys.map((key) =>
          at([...path, key], unknownKeyMessage(key, knownKeys(wording.schema, path, data, legacy.hintsStopAt)), true),
        );
      case 'invalid_key': {
        if (legacy.invalidKey) return [at(path, issue.message)];
        const name = String(path[path.length - 1]);
        return [at(path, `name ${JSON.stringify(name)}: ${issue.issues[0]?.message ?? 'not a valid name'}`, true)];
      }
      case 'invalid_type':
        if (isMissing(data, path)) return [at(path, `missing required key "${String(path[path.length - 1])}"`)];
        if (path.length === 0) return [at(path, `${wording.root}, got ${describeValue(value)}`)];
        if (wording.ownTypeMessages && !issue.message.startsWith('Invalid input')) return [at(path, issue.message)];
        return [at(path, `expected ${describeType(issue.expected, legacy.record ? 'a record' : undefined)}, got ${describeValue(value)}`)];
      case 'invalid_union': {
        if (!issue.discriminator) return [at(path, issue.message)];
        // The options come from the schema's union, so adding a member updates the message.
        const noun = wording.discriminator?.(issue.discriminator, path) ?? issue.discriminator;
        const expected = `(expected one of ${listValues('options' in issue ? (issue.options ?? []) : [])})`;
        return [at(path, value === undefined ? `missing ${noun} ${expected}` : `unknown ${noun} ${JSON.stringify(value)} ${expected}`)];
      }
      case 'invalid_value':
        return [at(path, `${describeValue(value)} is not one of: ${listValues(issue.values)}`)];
      case 'too_small':
        return [at(path, sizeMessage('at least', issue.origin, issue.minimum, issue.inclusive !== false, legacy.items === true))];
      case 'too_big':
        return [at(path, sizeMessage('at most', issue.origin, issue.maximum, issue.inclusive !== false, legacy.items === true))];
      default:
        return [at(path, issue.message)];
    }
  });
}
