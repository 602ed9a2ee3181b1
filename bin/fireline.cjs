#!/usr/bin/env node
// The `fireline` command runs the compiled JavaScript in dist/. In a checkout (tsconfig.build.json beside
// bin/) it first rebuilds when a source is newer than the last build, so `npm start` after an edit runs that
// edit. FIRELINE_FROM_SOURCE=1 runs the TypeScript sources through tsx instead (tests; `npm run dev`).
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');

function canResolve(name) {
  try {
    require.resolve(name, { paths: [root] });
    return true;
  } catch {
    return false;
  }
}

if (process.env.FIRELINE_FROM_SOURCE === '1') {
  require('tsx/cjs');
  require('../src/cli.ts');
} else {
  const compiled = path.join(root, 'dist', 'src', 'cli.js');
  if (fs.existsSync(path.join(root, 'tsconfig.build.json'))) {
    const reason = require('./build.cjs').staleReason(root);
    if (reason !== null && canResolve('typescript')) {
      const built = spawnSync(process.execPath, [path.join(__dirname, 'build.cjs'), '--if-stale'], { stdio: ['ignore', 2, 2] });
      if (built.status !== 0) process.exit(1);
    } else if (reason !== null && fs.existsSync(compiled)) {
      // An install without development packages (npm ci --omit=dev) cannot build: it runs the build it has.
      process.stderr.write(`fireline: dist/ may be out of date (${reason}); TypeScript is not installed to rebuild it\n`);
    }
  }
  if (!fs.existsSync(compiled)) {
    process.stderr.write('fireline: there is no build in dist/; run `npm install` and `npm run build` first\n');
    process.exit(2);
  }
  require(compiled);
}
