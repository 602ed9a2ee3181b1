import { createHash } from 'node:crypto';
import { basename, extname } from 'node:path';
import { type Runbook, RunbookSchema } from '../domain/runbook';
import { type IssueWording, issueProblems, parseYaml, sortProblems } from '../yaml/located';
import { checkRunbook, type RunbookProblem, type RunbookRule } from './check';
import type { RuleContext } from './check';

export type { RunbookProblem } from './check';
export { formatProblem } from '../yaml/located';

export type ParseResult =
  | { ok: true; runbook: Runbook; version: string }
  /** `version` is there too so lists can show which bytes were rejected. */
  | { ok: false; problems: RunbookProblem[]; version: string };

export interface ParseOptions extends Omit<RuleContext, 'fileId'> {
  /** Replaces the default semantic rules (tests). */
  rules?: readonly RunbookRule[];
}

/** The id a runbook in this file must have: `runbooks/order-db-outage.yaml` → `order-db-outage`. */
export function runbookIdFromFile(file: string): string {
  return basename(file, extname(file));
}

/** sha256 of the exact bytes, hex: the version an incident pins. */
export function runbookVersion(bytes: string | Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * YAML text (or the file's bytes) → a schema-valid, semantically checked runbook, or every problem found,
 * each with the line and column of the YAML node it is about.
 */
export function parseRunbook(source: string | Uint8Array, file: string, options: ParseOptions = {}): ParseResult {
  const version = runbookVersion(source);
  const fail = (problems: RunbookProblem[]): ParseResult => ({ ok: false, problems: sortProblems(problems), version });

  const yaml = parseYaml(source, file);
  if (!yaml.ok) return fail(yaml.problems);

  const parsed = RunbookSchema.safeParse(yaml.data);
  if (!parsed.success) return fail(issueProblems(parsed.error, yaml.data, yaml.at, WORDING));

  const problems = checkRunbook(parsed.data, { ...options, file, locate: yaml.locate, fileId: runbookIdFromFile(file) });
  return problems.length > 0 ? fail(problems) : { ok: true, runbook: parsed.data, version };
}

const WORDING: IssueWording = {
  root: 'a runbook must be a mapping with id, title, owner and phases',
  schema: RunbookSchema,
  discriminator: (name, path) => (path[0] === 'phases' && name === 'kind' ? 'step kind' : name),
  legacy: { record: true, invalidKey: true, items: true, hintsStopAt: 'records' },
};
