import type { z } from 'zod';
import { formatPath } from '../runbooks/check';
import { type At, formatProblem, issueProblems, parseYaml, readYamlBytes, START, type YamlProblem } from '../yaml/located';

/**
 * Reading a small YAML config file (integrations, routing) the way runbooks and targets are read: every
 * problem comes back as `file:line:col: path: message`, at the YAML node it is about.
 */
export type ConfigProblem = YamlProblem;
export const formatConfigProblem: (p: ConfigProblem) => string = formatProblem;

export type { At } from '../yaml/located';
export { describeValue, sortProblems, valueAt } from '../yaml/located';

export type YamlRead = { ok: true; data: unknown; at: At; missing: boolean } | { ok: false; problems: ConfigProblem[] };

/** Reads and parses the file; a missing file is `missing: true` with empty data (the caller decides what it means). */
export function readYamlFile(file: string): YamlRead {
  const read = readYamlBytes(file);
  if (!read.ok) return read;
  if (read.bytes === undefined)
    return { ok: true, data: {}, at: (path, message) => ({ file, ...START, path: formatPath(path), message }), missing: true };
  return parseYamlText(read.bytes, file);
}

export function parseYamlText(source: string | Uint8Array, file: string): YamlRead {
  const yaml = parseYaml(source, file);
  if (!yaml.ok) return yaml;
  // An empty file (or only comments) configures nothing.
  return { ok: true, data: yaml.data ?? {}, at: yaml.at, missing: false };
}

/** zod issues → positioned problems; `rootShape` describes the file as a whole for a wrong top-level type. */
export function zodProblems(error: z.ZodError, schema: z.core.$ZodType, data: unknown, at: At, rootShape: string): ConfigProblem[] {
  return issueProblems(error, data, at, { root: `the file must be ${rootShape}`, schema, ownTypeMessages: true });
}
