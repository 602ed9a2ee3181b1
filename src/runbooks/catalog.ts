import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { type Runbook, RunbookSchema, type RunbookSnapshot } from '../domain/runbook';
import { type Severity, severityFromRisk } from '../domain/severity';
import type { RunbookProblem } from './check';
import { parseRunbook, runbookIdFromFile } from './load';
import type { ParseOptions } from './load';

export interface RunbookSummary {
  /** The runbook's id; for a broken file, the id its file name promises. */
  id: string;
  title: string | null;
  owner: string | null;
  service: string | null;
  /** Explicit `severity`, else derived from `risk`, else null (the declarer chooses). */
  severity: Severity | null;
  /** sha256 of the file's bytes, hex; empty when the file could not be read. */
  version: string;
  /** Path relative to the catalog directory. */
  source: string;
  /** Empty when the runbook can be used. */
  problems: RunbookProblem[];
}

/** One file as last read: either a runbook or the reasons it cannot be used. */
interface LoadedFile {
  /** Relative to the catalog directory. */
  source: string;
  /** As shown in problems: the directory joined with `source`. */
  file: string;
  /** Empty when the file could not be read. */
  version: string;
  runbook?: Runbook;
  problems: RunbookProblem[];
}

const EXTENSIONS = ['.yaml', '.yml'] as const;

/** Runbook files in a directory: YAML, not hidden (editor swap files), not a README. */
export function isRunbookFileName(name: string): boolean {
  const ext = extname(name).toLowerCase();
  return EXTENSIONS.some((e) => e === ext) && !name.startsWith('.') && runbookIdFromFile(name).toLowerCase() !== 'readme';
}

export async function listRunbookFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((error: unknown) => {
    throw new Error(`cannot read runbooks directory "${dir}": ${error instanceof Error ? error.message : String(error)}`);
  });
  return entries
    .filter((entry) => entry.isFile() && isRunbookFileName(entry.name))
    .map((entry) => entry.name)
    .sort();
}

function isNotFound(error: unknown): boolean {
  return error instanceof Error && 'code' in error && error.code === 'ENOENT';
}

export function severityOf(runbook: Runbook): Severity | null {
  return runbook.severity ?? (runbook.risk ? severityFromRisk(runbook.risk) : null);
}

/**
 * The runbooks directory, read lazily. Each call looks at the files again and re-parses only those whose
 * stat changed, so an edited runbook applies to the next declared incident without a restart, while
 * incidents already running keep the snapshot they started with.
 */
export class RunbookCatalog {
  private readonly cache = new Map<string, { stamp: string; file: LoadedFile }>();

  /** `context` (targets, escalation policies) lets the checks verify names the runbooks use. */
  constructor(
    private readonly dir: string,
    private readonly context: ParseOptions = {},
  ) {}

  async list(): Promise<RunbookSummary[]> {
    const names = await listRunbookFiles(this.dir);
    for (const cached of this.cache.keys()) if (!names.includes(cached)) this.cache.delete(cached);
    const files = await Promise.all(names.map((name) => this.load(name)));
    return markShadowed(files.filter((file): file is LoadedFile => file !== undefined)).map(summarize);
  }

  /** The snapshot a new incident pins; undefined when there is no usable runbook with that id. */
  async get(id: string): Promise<RunbookSnapshot | undefined> {
    // The id must equal the file's base name, so only two files can hold it; checking the id first also
    // keeps `../` out of the path.
    if (!RunbookSchema.shape.id.safeParse(id).success) return undefined;
    for (const ext of EXTENSIONS) {
      const file = await this.load(`${id}${ext}`);
      if (!file) continue;
      // A broken `.yaml` shadows a `.yml` with the same id (see markShadowed), so stop at the first file.
      if (!file.runbook || file.problems.length > 0) return undefined;
      return { runbook: structuredClone(file.runbook), version: file.version, source: file.source };
    }
    return undefined;
  }

  async validateAll(): Promise<RunbookProblem[]> {
    return (await this.list()).flatMap((summary) => summary.problems);
  }

  /** Undefined when the file does not exist. */
  private async load(name: string): Promise<LoadedFile | undefined> {
    const path = join(this.dir, name);
    try {
      // Stat before reading: if the file changes in between, the next call sees a new stamp and re-reads.
      const info = await stat(path);
      if (!info.isFile()) return undefined;
      const stamp = `${info.mtimeMs}:${info.size}:${info.ino}`;
      const cached = this.cache.get(name);
      if (cached?.stamp === stamp) return cached.file;
      const file = parseFile(name, path, await readFile(path), this.context);
      this.cache.set(name, { stamp, file });
      return file;
    } catch (error) {
      this.cache.delete(name);
      if (isNotFound(error)) return undefined;
      const message = `cannot read the file: ${error instanceof Error ? error.message : String(error)}`;
      return { source: name, file: path, version: '', problems: [{ file: path, line: 1, col: 1, path: '', message }] };
    }
  }
}

function parseFile(source: string, file: string, bytes: Buffer, context: ParseOptions): LoadedFile {
  const result = parseRunbook(bytes, file, context);
  return result.ok
    ? { source, file, version: result.version, runbook: result.runbook, problems: [] }
    : { source, file, version: result.version, problems: result.problems };
}

/** `x.yaml` and `x.yml` both claim id `x`; the first in name order wins, the other is reported. */
function markShadowed(files: LoadedFile[]): LoadedFile[] {
  const owner = new Map<string, string>();
  return files.map((file) => {
    const id = runbookIdFromFile(file.source);
    const first = owner.get(id);
    if (first === undefined) {
      owner.set(id, file.source);
      return file;
    }
    const message = `runbook id "${id}" is already taken by ${first}; remove or rename one of the two files`;
    const problem = { file: file.file, line: 1, col: 1, path: '', message };
    return { ...file, runbook: undefined, problems: [problem, ...file.problems] };
  });
}

function summarize(file: LoadedFile): RunbookSummary {
  const { runbook } = file;
  return {
    id: runbook?.id ?? runbookIdFromFile(file.source),
    title: runbook?.title ?? null,
    owner: runbook?.owner ?? null,
    service: runbook?.service ?? null,
    severity: runbook ? severityOf(runbook) : null,
    version: file.version,
    source: file.source,
    problems: file.problems,
  };
}
