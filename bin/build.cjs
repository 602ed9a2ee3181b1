#!/usr/bin/env node
// `npm run build`: TypeScript → dist/ (tsc, incremental), the web page's static files beside the compiled code
// that serves them, and the workflow bundle that production workers load instead of running webpack at start.
// Also the staleness check bin/fireline.cjs runs in a checkout, so `npm start` after an edit runs the edit.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
const STAMP = path.join(DIST, '.build-stamp');
const LOCK = path.join(DIST, '.build-lock');
const SOURCE_DIRS = ['src', 'workflows', 'activities'];
/** Files whose change can change the output without any source changing (compiler settings, SDK versions). */
const BUILD_INPUTS = ['tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];
const STATIC_DIR = path.join('src', 'api', 'web', 'static');
const BUNDLE = path.join(DIST, 'workflow-bundle.js');

function newestMtime(dir) {
  let newest = { file: null, mtimeMs: 0 };
  const visit = (current) => {
    for (const entry of fs.readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) visit(full);
      else {
        const { mtimeMs } = fs.statSync(full);
        if (mtimeMs > newest.mtimeMs) newest = { file: full, mtimeMs };
      }
    }
  };
  if (fs.existsSync(dir)) visit(dir);
  return newest;
}

/** Why dist/ must be rebuilt before it runs, or null when it is up to date with the sources. */
function staleReason(root = ROOT) {
  const stamp = path.join(root, 'dist', '.build-stamp');
  if (!fs.existsSync(stamp)) return 'there is no build yet';
  const built = fs.statSync(stamp).mtimeMs;
  for (const name of [...SOURCE_DIRS, ...BUILD_INPUTS]) {
    const full = path.join(root, name);
    if (!fs.existsSync(full)) continue;
    const newest = fs.statSync(full).isDirectory() ? newestMtime(full) : { file: full, mtimeMs: fs.statSync(full).mtimeMs };
    if (newest.mtimeMs > built) return `${path.relative(root, newest.file)} changed since the last build`;
  }
  return null;
}

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/** One build at a time per checkout (an `api` and a `worker` started together); a dead holder's lock is taken over. */
async function withLock(fn) {
  fs.mkdirSync(DIST, { recursive: true });
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      fs.mkdirSync(LOCK);
      fs.writeFileSync(path.join(LOCK, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      const holder = Number((fs.existsSync(path.join(LOCK, 'pid')) ? fs.readFileSync(path.join(LOCK, 'pid'), 'utf8') : '').trim());
      // No pid yet: the holder is between its mkdir and its write, so it is alive.
      if (holder > 0 && !pidAlive(holder)) {
        fs.rmSync(LOCK, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`another build holds ${LOCK}; remove it if no build is running`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(LOCK, { recursive: true, force: true });
  }
}

function compile() {
  const tsc = require.resolve('typescript/bin/tsc', { paths: [ROOT] });
  const result = spawnSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.build.json')], { stdio: ['ignore', 2, 2] });
  if (result.status !== 0) throw new Error(`tsc failed (${result.signal ?? `exit code ${result.status}`})`);
}

/** Compiled files whose source was deleted or renamed; tsc never removes them, and they would still load. */
function pruneOrphans() {
  for (const dir of SOURCE_DIRS) {
    const visit = (current) => {
      if (!fs.existsSync(current)) return;
      for (const entry of fs.readdirSync(current, { withFileTypes: true })) {
        const full = path.join(current, entry.name);
        const relative = path.relative(DIST, full);
        if (entry.isDirectory()) {
          if (relative !== STATIC_DIR) visit(full);
        } else if (entry.name.endsWith('.js') && !fs.existsSync(path.join(ROOT, relative.replace(/\.js$/, '.ts')))) {
          fs.rmSync(full);
        }
      }
    };
    visit(path.join(DIST, dir));
  }
}

function copyStatic() {
  const target = path.join(DIST, STATIC_DIR);
  fs.rmSync(target, { recursive: true, force: true });
  fs.cpSync(path.join(ROOT, STATIC_DIR), target, { recursive: true });
}

async function bundleWorkflows() {
  const { bundleWorkflowCode } = require(require.resolve('@temporalio/worker', { paths: [ROOT] }));
  const quiet = {
    log() {},
    trace() {},
    debug() {},
    info() {},
    warn: (m) => process.stderr.write(`${m}\n`),
    error: (m) => process.stderr.write(`${m}\n`),
  };
  const { code } = await bundleWorkflowCode({ workflowsPath: path.join(DIST, 'workflows', 'index.js'), logger: quiet });
  // Written whole or not at all: a worker starting meanwhile must never load half a bundle.
  const temp = `${BUNDLE}.${process.pid}.tmp`;
  fs.writeFileSync(temp, code);
  fs.renameSync(temp, BUNDLE);
}

/** Builds dist/; with onlyIfStale, only when a source is newer than the last build. Resolves whether it built. */
function build({ onlyIfStale = false } = {}) {
  return withLock(async () => {
    // Checked under the lock: a build that finished while this one waited leaves nothing to do.
    const reason = staleReason();
    if (onlyIfStale && reason === null) return false;
    // The stamp takes the start time, so an edit made during the build counts as newer than it.
    const startedAt = new Date();
    process.stderr.write(`fireline: building dist/ (${reason ?? 'requested'})\n`);
    compile();
    pruneOrphans();
    copyStatic();
    await bundleWorkflows();
    fs.writeFileSync(STAMP, `${startedAt.toISOString()}\n`);
    fs.utimesSync(STAMP, startedAt, startedAt);
    return true;
  });
}

module.exports = { staleReason };

if (require.main === module) {
  build({ onlyIfStale: process.argv.includes('--if-stale') }).then(
    () => undefined,
    (err) => {
      process.stderr.write(`build: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
