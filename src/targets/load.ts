import { EMPTY_TARGETS, type Targets, TargetsSchema } from '../domain/targets';
import type { PathSegment, RunbookProblem } from '../runbooks/check';
import { processSecrets } from '../secrets/scrubber';
import {
  type At,
  formatProblem,
  isRecord,
  type IssueWording,
  issueProblems,
  parseYaml,
  readYamlBytes,
  sortProblems,
} from '../yaml/located';

/** A problem in config/targets.yaml, at the line and column of the YAML node it is about. */
export type TargetsProblem = RunbookProblem;

export type LoadTargetsResult =
  /** `warnings`: `${ENV_VAR}` references (and secrets) whose variable is not set in the env given. */
  { ok: true; targets: Targets; warnings: TargetsProblem[] } | { ok: false; problems: TargetsProblem[] };

/** `file:line:col: path: message`, as for runbooks. */
export const formatTargetsProblem: (p: TargetsProblem) => string = formatProblem;

type Env = Record<string, string | undefined>;

const ENV_REF = /^[A-Z][A-Z0-9_]*$/;
const SCOPED_REF = /^(incident|decision|params)\.[a-zA-Z0-9_-]+$/;
const PLACEHOLDER = /\$\{\s*([^}]*?)\s*\}/g;

/**
 * Reads config/targets.yaml: the databases, backups, commands and secrets runbooks refer to by name. A missing
 * file is no targets at all (runbooks that name one fail with a clear message when they run). With `env`,
 * `${ENV_VAR}` references that are unset there come back as warnings: they fail only when used.
 */
export function loadTargets(file: string, env?: Env): LoadTargetsResult {
  const read = readYamlBytes(file);
  if (!read.ok) return read;
  return read.bytes === undefined ? { ok: true, targets: EMPTY_TARGETS, warnings: [] } : parseTargets(read.bytes, file, env);
}

/** YAML text (or bytes) → schema-valid targets, or every problem found with its position. */
export function parseTargets(source: string | Uint8Array, file: string, env?: Env): LoadTargetsResult {
  const fail = (problems: TargetsProblem[]): LoadTargetsResult => ({ ok: false, problems: sortProblems(problems) });
  const yaml = parseYaml(source, file);
  if (!yaml.ok) return fail(yaml.problems);
  const { at } = yaml;
  // An empty file (or only comments) configures nothing.
  const data = yaml.data ?? {};

  const parsed = TargetsSchema.safeParse(data);
  const problems = parsed.success ? [] : issueProblems(parsed.error, data, at, WORDING);
  problems.push(...placeholderProblems(data, at));
  if (!parsed.success || problems.length > 0) return fail(problems);

  // The signing secrets are masked in this process's logs from now on, whichever code reads them later.
  if (env) for (const secret of Object.values(parsed.data.secrets)) processSecrets.add(env[secret.env]);
  return { ok: true, targets: parsed.data, warnings: env ? sortProblems(envWarnings(parsed.data, data, env, at)) : [] };
}

const WORDING: IssueWording = {
  root: 'the file must be a mapping with databases, backups, commands and secrets',
  schema: TargetsSchema,
  legacy: { record: true, hintsStopAt: 'unions' },
};

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
    if (!env[secret.env])
      warnings.push(at(['secrets', name, 'env'], `${secret.env} is not set: actions signed with "${name}" will fail until it is`));
  }
  return warnings;
}
