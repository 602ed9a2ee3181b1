// Lint rules that keep the workflow sandbox honest and promises awaited.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const NODE_BUILTINS = [
  'assert',
  'buffer',
  'child_process',
  'cluster',
  'crypto',
  'dgram',
  'dns',
  'events',
  'fs',
  'fs/promises',
  'http',
  'http2',
  'https',
  'net',
  'os',
  'path',
  'perf_hooks',
  'process',
  'readline',
  'stream',
  'timers',
  'tls',
  'url',
  'util',
  'v8',
  'vm',
  'worker_threads',
  'zlib',
];

/**
 * The src/domain modules that import nothing at all (not even types), so the workflow bundle may import them:
 * orders, limits, prefixes, failure names and the alert-episode key. tests/workflows/bundle.test.ts checks
 * that they stay import-free and that nothing else of src/ reaches the bundle.
 */
const WORKFLOW_SAFE_DOMAIN = ['alert-episode', 'drill', 'failure-types', 'limits', 'phases', 'role-order', 'severity-order'];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'data/**', 'coverage/**', 'tests/artifacts/**', 'bin/**', '*.config.js', '*.config.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports', fixStyle: 'separate-type-imports' }],
      'no-console': 'error',
    },
  },
  {
    // The workflow sandbox: deterministic code only. Node built-ins, I/O libraries and zod never enter the bundle;
    // from our own sources only types may be imported, and values only from the import-free domain modules.
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            ...NODE_BUILTINS.flatMap((name) => [name, `node:${name}`]).map((name) => ({
              name,
              message: 'Node built-ins are not allowed in workflow code.',
            })),
            ...[
              'zod',
              'pino',
              'express',
              'better-sqlite3',
              'pg',
              'nodemailer',
              '@slack/bolt',
              '@slack/web-api',
              '@temporalio/client',
              '@temporalio/worker',
              '@temporalio/activity',
            ].map((name) => ({
              name,
              message: 'Workflow code may import only @temporalio/workflow; do I/O in activities.',
            })),
          ],
          patterns: [
            {
              group: ['../activities/**', '../activities'],
              allowTypeImports: true,
              message: 'Workflow code may import only types from activities/.',
            },
            {
              regex: `^(\\.\\./)+src/(?!domain/(${WORKFLOW_SAFE_DOMAIN.join('|')})$)`,
              allowTypeImports: true,
              message: `Workflow code may import only types from src/, and values only from the import-free src/domain modules (${WORKFLOW_SAFE_DOMAIN.join(', ')}).`,
            },
          ],
        },
      ],
    },
  },
  {
    files: ['activities/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [{ group: ['../workflows/**', '../workflows'], message: 'Activities never import workflow code.' }] },
      ],
    },
  },
  {
    files: ['src/domain/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [{ group: ['../*', '!./*'], message: 'src/domain imports nothing of ours outside itself.' }] },
      ],
    },
  },
  {
    files: WORKFLOW_SAFE_DOMAIN.map((name) => `src/domain/${name}.ts`),
    rules: {
      'no-restricted-syntax': [
        'error',
        ...[
          'ImportDeclaration',
          'ImportExpression',
          'ExportAllDeclaration',
          'ExportNamedDeclaration[source]',
          'TSImportEqualsDeclaration',
          "CallExpression[callee.name='require']",
        ].map((selector) => ({
          selector,
          message: 'This module is part of the workflow bundle (WORKFLOW_SAFE_DOMAIN): it imports nothing, not even types.',
        })),
      ],
    },
  },
);
