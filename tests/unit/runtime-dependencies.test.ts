// A production install (`npm ci --omit=dev`, the Docker image) has only package.json's dependencies. Every
// package that code reachable from the entry points loads must be one of them, or `fireline start` fails
// there with "Cannot find module" although every test passes. Read statically from the sources, so no build.
import { builtinModules } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const ROOT = path.resolve(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
/** What the compiled command loads (bin/fireline.cjs → dist/src/cli.js) and what the workflow bundle is built from. */
const ENTRY_POINTS = ['src/cli.ts', 'workflows/index.ts'];
/**
 * Development packages that run-time code may load only on demand, each with what it is for; the code must
 * check that the package is there first. Never at the top of a module: that would load it on every start.
 */
const ON_DEMAND: Record<string, string> = {
  '@temporalio/testing': 'the Temporal CLI download fallback in src/temporal/dev-server.ts, offered only when it is installed',
};

interface Use {
  pkg: string;
  file: string;
  onDemand: boolean;
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

function isBuiltin(specifier: string): boolean {
  return specifier.startsWith('node:') || builtinModules.includes(specifier.split('/')[0]!);
}

function resolveLocal(from: string, specifier: string): string {
  const base = path.resolve(path.dirname(from), specifier);
  for (const candidate of [`${base}.ts`, path.join(base, 'index.ts'), base]) {
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
  }
  throw new Error(`${path.relative(ROOT, from)}: cannot resolve ${specifier}`);
}

/** Module specifiers a file loads at run time: type-only imports are erased by the compiler and skipped. */
function runtimeImports(file: string): { specifier: string; onDemand: boolean }[] {
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const found: { specifier: string; onDemand: boolean }[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const named = clause?.namedBindings;
      const onlyTypes =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined &&
            named !== undefined &&
            ts.isNamedImports(named) &&
            named.elements.length > 0 &&
            named.elements.every((e) => e.isTypeOnly)));
      if (!onlyTypes) found.push({ specifier: node.moduleSpecifier.text, onDemand: false });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier) && !node.isTypeOnly) {
      found.push({ specifier: node.moduleSpecifier.text, onDemand: false });
    } else if (
      ts.isImportEqualsDeclaration(node) &&
      ts.isExternalModuleReference(node.moduleReference) &&
      ts.isStringLiteral(node.moduleReference.expression)
    ) {
      found.push({ specifier: node.moduleReference.expression.text, onDemand: false });
    } else if (ts.isCallExpression(node) && node.arguments.length > 0 && ts.isStringLiteral(node.arguments[0]!)) {
      const callee = node.expression;
      const specifier = (node.arguments[0] as ts.StringLiteral).text;
      if (callee.kind === ts.SyntaxKind.ImportKeyword) found.push({ specifier, onDemand: true });
      else if (ts.isIdentifier(callee) && callee.text === 'require') found.push({ specifier, onDemand: false });
      else if (ts.isPropertyAccessExpression(callee) && callee.getText() === 'require.resolve') found.push({ specifier, onDemand: true });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Every package loaded by code reachable from the entry points, with the file that loads it. */
function reachablePackages(): Use[] {
  const uses: Use[] = [];
  const seen = new Set<string>();
  const queue = ENTRY_POINTS.map((p) => path.join(ROOT, p));
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const { specifier, onDemand } of runtimeImports(file)) {
      if (specifier.startsWith('.')) queue.push(resolveLocal(file, specifier));
      else if (!isBuiltin(specifier)) uses.push({ pkg: packageName(specifier), file: path.relative(ROOT, file), onDemand });
    }
  }
  expect(seen.size).toBeGreaterThan(50);
  return uses;
}

test('code reachable from the entry points loads only production dependencies (or an on-demand package it checks for)', () => {
  const misplaced = reachablePackages()
    .filter((u) => !(u.pkg in pkg.dependencies))
    .filter((u) => !(u.onDemand && u.pkg in ON_DEMAND))
    .map((u) => `${u.file} loads ${u.pkg}, which is ${u.pkg in pkg.devDependencies ? 'a devDependency' : 'not in package.json'}`);
  expect(misplaced).toEqual([]);
});

test('the on-demand packages are development dependencies, and each is still used that way', () => {
  const onDemandUses = reachablePackages().filter((u) => u.pkg in ON_DEMAND);
  for (const name of Object.keys(ON_DEMAND)) {
    expect(pkg.devDependencies).toHaveProperty([name]);
    expect(onDemandUses.filter((u) => u.pkg === name).length).toBeGreaterThan(0);
  }
});

test('test and build tooling stays out of the production dependencies', () => {
  const toolOnly = [
    'tsx',
    'typescript',
    'jest',
    'prettier',
    'eslint',
    'smtp-server',
    'mailparser',
    'playwright-core',
    '@temporalio/testing',
  ];
  expect(toolOnly.filter((name) => name in pkg.dependencies)).toEqual([]);
});
