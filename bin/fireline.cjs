#!/usr/bin/env node
// The `fireline` command: TypeScript sources run through tsx's require hook, so there is no build step to forget.
require('tsx/cjs');
require('../src/cli.ts');
