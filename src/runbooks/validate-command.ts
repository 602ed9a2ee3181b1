import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { listRunbookFiles, RunbookCatalog } from './catalog';
import type { RunbookProblem } from './check';
import { formatProblem, parseRunbook } from './load';
import type { ParseOptions } from './load';

export interface ValidationResult {
  problems: RunbookProblem[];
  /** How many runbook files were read. */
  checked: number;
}

function problemWithPath(file: string, message: string): RunbookProblem {
  return { file, line: 1, col: 1, path: '', message };
}

/**
 * `fireline runbooks validate [paths]`: each path is a runbook file (checked whatever its extension) or a
 * directory (its runbook files, checked as the catalog reads them). Each file is checked once even when
 * named twice or also inside a named directory.
 */
export async function validateRunbookFiles(paths: string[], context: ParseOptions = {}): Promise<ValidationResult> {
  const seen = new Set<string>();
  const problems: RunbookProblem[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined);
    if (!info) {
      problems.push(problemWithPath(path, 'no such file or directory'));
    } else if (info.isDirectory()) {
      problems.push(...(await validateDirectory(path, seen, context)));
    } else if (!seen.has(resolve(path))) {
      seen.add(resolve(path));
      problems.push(...(await validateFile(path, context)));
    }
  }
  return { problems, checked: seen.size };
}

async function validateDirectory(dir: string, seen: Set<string>, context: ParseOptions): Promise<RunbookProblem[]> {
  const names = (await listRunbookFiles(dir)).filter((name) => !seen.has(resolve(dir, name)));
  const catalog = new RunbookCatalog(dir, context);
  const summaries = (await catalog.list()).filter((summary) => names.includes(summary.source));
  for (const name of names) seen.add(resolve(dir, name));
  return summaries.flatMap((summary) => summary.problems);
}

async function validateFile(path: string, context: ParseOptions): Promise<RunbookProblem[]> {
  try {
    const result = parseRunbook(await readFile(path), path, context);
    return result.ok ? [] : result.problems;
  } catch (error) {
    return [problemWithPath(path, `cannot read the file: ${error instanceof Error ? error.message : String(error)}`)];
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** One `file:line:col: path: message` line per problem, then a summary; `write` gets whole lines with "\n". */
export function printValidation(result: ValidationResult, write: (s: string) => void): void {
  for (const problem of result.problems) write(`${formatProblem(problem)}\n`);
  if (result.checked === 0 && result.problems.length === 0) {
    write('no runbook files found\n');
    return;
  }
  const files = new Set(result.problems.map((p) => p.file)).size;
  const outcome = result.problems.length === 0 ? 'no problems' : `${plural(result.problems.length, 'problem')} in ${plural(files, 'file')}`;
  write(`checked ${plural(result.checked, 'runbook')}: ${outcome}\n`);
}
