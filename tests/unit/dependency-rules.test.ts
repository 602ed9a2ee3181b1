// The dependency rules of docs/architecture.md, checked on the source tree: the lint rules guard the workflow
// sandbox and src/domain, this guards the arrows between the other folders and the absence of import circles.
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const SOURCE_DIRS = ['src', 'workflows', 'activities'];

interface SourceFile {
  file: string; // relative to the repository, with forward slashes
  imports: { spec: string; resolved: string | null; typeOnly: boolean }[];
}

function listTs(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return listTs(rel);
    return entry.name.endsWith('.ts') ? [rel] : [];
  });
}

function resolveLocal(from: string, spec: string, known: Set<string>): string | null {
  if (!spec.startsWith('.')) return null;
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec));
  for (const candidate of [`${base}.ts`, `${base}/index.ts`]) if (known.has(candidate)) return candidate;
  return null;
}

function readSources(): SourceFile[] {
  const files = SOURCE_DIRS.flatMap(listTs);
  const known = new Set(files);
  return files.map((file) => {
    const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
    const imports = [...text.matchAll(/^(?:import|export)\s+(type\s+)?(?:[^;'"]*?\sfrom\s+)?'([^']+)'/gms)].map((m) => ({
      spec: m[2]!,
      resolved: resolveLocal(file, m[2]!, known),
      typeOnly: Boolean(m[1]),
    }));
    return { file, imports };
  });
}

const sources = readSources();

test('the source tree was read (the rules below are not vacuous)', () => {
  expect(sources.length).toBeGreaterThan(100);
  const services = sources.find((s) => s.file === 'src/services/incidents.ts');
  expect(services?.imports.some((i) => i.spec === '@temporalio/client')).toBe(true);
});

test('no import circles, type imports included', () => {
  const graph = new Map(sources.map((s) => [s.file, s.imports.flatMap((i) => (i.resolved ? [i.resolved] : []))]));
  const cycles: string[][] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'visiting');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'visiting') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  expect(cycles.map((c) => c.join(' → '))).toEqual([]);
});

test('only src/services and src/temporal (and entry points) use the Temporal client', () => {
  const allowed = (file: string) => /^src\/(services|temporal|launch)\//.test(file) || file === 'src/cli.ts';
  const users = sources.filter((s) => s.imports.some((i) => i.spec === '@temporalio/client' && !i.typeOnly)).map((s) => s.file);
  expect(users.filter((f) => !allowed(f))).toEqual([]);
});

test('ingest never imports the HTTP layer, and activities never import workflows', () => {
  const offending = sources.flatMap((s) =>
    s.imports
      .filter((i) => i.resolved)
      .filter(
        (i) =>
          (s.file.startsWith('src/ingest/') && i.resolved!.startsWith('src/api/')) ||
          (s.file.startsWith('activities/') && i.resolved!.startsWith('workflows/')),
      )
      .map((i) => `${s.file} → ${i.resolved}`),
  );
  expect(offending).toEqual([]);
});

test('src/domain imports nothing of ours outside itself', () => {
  const offending = sources
    .filter((s) => s.file.startsWith('src/domain/'))
    .flatMap((s) => s.imports.filter((i) => i.resolved && !i.resolved.startsWith('src/domain/')).map((i) => `${s.file} → ${i.resolved}`));
  expect(offending).toEqual([]);
});
