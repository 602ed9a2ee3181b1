#!/usr/bin/env node
// Runs a TypeScript entry point without a build step (tsx's require hook).
require('tsx/cjs');
const path = require('node:path');
const [, , script, ...rest] = process.argv;
process.argv = [process.argv[0], script, ...rest];
require(path.resolve(script));
