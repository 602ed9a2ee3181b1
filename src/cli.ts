// The `fireline` command. The only place (with bench and test entry points) that reads process.env.
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { ConfigError, loadConfig, secretSettingValues } from './config';
import { KEY_FILE, KeyRingError, newKeyEntry, parseKeyRing } from './crypto/key-ring';
import type { Config } from './config';
import { DEMO_DEFAULTS, startDemo } from './demo';
import { RoleSchema } from './domain/roles';
import type { Role } from './domain/roles';
import { parseDuration } from './domain/duration';
import { startApi } from './launch/api';
import { startEmbedded } from './launch/embedded';
import { resolveKeyRing } from './launch/keys';
import { describeStore, openStore, redactUrl, sqliteFile } from './launch/store';
import { loadOnCallSource } from './launch/oncall';
import { loadTargetsOrFail } from './launch/targets';
import { startWorker } from './launch/worker';
import { createLogger } from './logger';
import { processSecrets } from './secrets/scrubber';
import type { Logger } from './logger';
import { runDrill } from './launch/drill';
import { runbookJsonSchema } from './runbooks/json-schema';
import { copyStoreToPostgres } from './store/copy-to-postgres';
import { printValidation, validateRunbookFiles } from './runbooks/validate-command';
import { createTokenService } from './services/tokens';
import type { CreateTokenOptions, TokenView } from './services/tokens';
import { TemporalCliNotFoundError } from './temporal/cli-binary';
import { describeVerification, verifyAuditChain } from './audit/verify';
import { cliActionContext } from './services/audit';
import os from 'node:os';

const USAGE = `Usage: fireline <command>

  start                      everything on this machine: Temporal dev server, worker, HTTP server
  demo [--data-dir D] [--port P] [--temporal-port T]
                             a first incident against a pretend order system, in its own installation
                             (defaults: data/demo, HTTP ${DEMO_DEFAULTS.port}, Temporal ${DEMO_DEFAULTS.temporalPort})
  worker                     a worker against TEMPORAL_ADDRESS
  api                        the HTTP server against TEMPORAL_ADDRESS
  token create --role R --name N [--expires 90d|TIME]
                             make a bearer token (roles: viewer, responder, commander, admin)
  token list [--json]        every token: role, state (active, expired, revoked), expiry, last use
  token revoke <id>          revoke a token now; its page sessions end with it
  keys new [id]              print a new payload key entry id=base64 for FIRELINE_PAYLOAD_KEYS (rotation)
  runbooks validate [paths]  check runbook files (default: the runbooks directory)
  runbooks schema [--out F]  write the runbook JSON Schema (for editors) to F or stdout
  drill run <runbook>        run a runbook as a drill against the running Fireline and follow its timeline
  migrate                    bring the read model's schema up to date (before a deploy; processes also do it at start)
  store copy --to URL [--from FILE]
                             copy the embedded SQLite read model (default: the data dir's) into PostgreSQL;
                             idempotent and resumable — run it again after an interruption
  audit verify               check the audit log's hash chain; names the first edited, deleted or reordered entry
  help                       this text

Settings come from the environment; see docs/settings.md.`;

function out(text: string) {
  process.stdout.write(text + '\n');
}

/**
 * Owns SIGINT/SIGTERM from the first moment: a signal during start-up is remembered and stops whatever started
 * as soon as it is known; a second signal exits at once.
 */
function shutdownOnSignal(logger: Logger) {
  let stop: (() => Promise<void>) | undefined;
  let requested = false;
  const run = () => {
    if (!stop) return;
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  const handler = (signal: NodeJS.Signals) => {
    if (requested) process.exit(130);
    requested = true;
    logger.info({ signal }, 'shutting down');
    run();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    stopWith(fn: () => Promise<void>) {
      stop = fn;
      if (requested) run();
    },
    get requested() {
      return requested;
    },
  };
}

function requireTemporalAddress(config: Config, command: string): string {
  if (!config.TEMPORAL_ADDRESS) {
    throw new ConfigError([
      `TEMPORAL_ADDRESS: required for \`fireline ${command}\` (host:port of Temporal); \`fireline start\` runs an embedded server instead`,
    ]);
  }
  return config.TEMPORAL_ADDRESS;
}

async function commandStart(config: Config, logger: Logger) {
  const keys = await resolveKeyRing(config);
  const shutdown = shutdownOnSignal(logger);
  const running = await startEmbedded({ config, logger, keys, env: process.env });
  shutdown.stopWith(running.stop);
  if (shutdown.requested) return;
  out('');
  out(`Fireline is running.`);
  out(`  API and web page:  ${config.publicUrl}  (listening on ${running.api.url})`);
  out(`  Temporal:          ${running.temporalAddress}${running.temporalUiUrl ? `  (UI ${running.temporalUiUrl})` : ''}`);
  out(`  Data:              ${config.dataDir}`);
  if (running.api.adminTokenShownOnce) {
    out('');
    out(`  Admin token (shown once, only its hash is stored):`);
    out(`    ${running.api.adminTokenShownOnce}`);
  }
  out('');
  out('Press Ctrl+C to stop.');
  running.workerDone.catch((err: unknown) => {
    logger.fatal({ err }, 'worker stopped');
    void running.stop().finally(() => process.exit(1));
  });
}

function portOption(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`--${name}: expected a port from 1 to 65535`);
  return port;
}

/** Its own settings, not the environment's: a demo must not pick up a real installation's data, Slack or SMTP. */
async function commandDemo(args: string[]) {
  const { values } = parseArgs({
    args,
    options: { 'data-dir': { type: 'string' }, port: { type: 'string' }, 'temporal-port': { type: 'string' } },
  });
  // Logs go to stderr, quieter than `start`: stdout is the demo's story and what to do next.
  const level = loadConfig({ FIRELINE_LOG_LEVEL: process.env.FIRELINE_LOG_LEVEL ?? 'warn' }).FIRELINE_LOG_LEVEL;
  const logger = createLogger({ level, destination: pino.destination(2) }).child({ demo: true });
  const shutdown = shutdownOnSignal(logger);
  const demo = await startDemo({
    env: process.env,
    dataDir: values['data-dir'] ?? DEMO_DEFAULTS.dataDir,
    port: portOption('port', values.port, DEMO_DEFAULTS.port),
    temporalPort: portOption('temporal-port', values['temporal-port'], DEMO_DEFAULTS.temporalPort),
    logger,
    write: out,
  });
  shutdown.stopWith(demo.stop);
  demo.workerDone.catch((err: unknown) => {
    logger.fatal({ err }, 'worker stopped');
    void demo.stop().finally(() => process.exit(1));
  });
}

async function commandWorker(config: Config, logger: Logger) {
  const address = requireTemporalAddress(config, 'worker');
  const keys = await resolveKeyRing(config);
  const shutdown = shutdownOnSignal(logger);
  const store = await openStore(config);
  const worker = await startWorker({ config, logger, store, temporalAddress: address, keys, env: process.env });
  shutdown.stopWith(async () => {
    await worker.stop();
    await store.close();
  });
  logger.info({ address, taskQueue: config.FIRELINE_TASK_QUEUE }, 'worker running');
  await worker.done;
}

async function commandApi(config: Config, logger: Logger) {
  const address = requireTemporalAddress(config, 'api');
  const keys = await resolveKeyRing(config);
  const shutdown = shutdownOnSignal(logger);
  const store = await openStore(config);
  const api = await startApi({ config, logger, store, temporalAddress: address, keys, env: process.env });
  shutdown.stopWith(async () => {
    await api.stop();
    await store.close();
  });
  out(`Fireline API listening on ${api.url}`);
  if (api.adminTokenShownOnce) out(`Admin token (shown once): ${api.adminTokenShownOnce}`);
}

const TOKEN_USAGE =
  'fireline token create --role <role> --name <name> [--expires 90d|<ISO time>] | token list [--json] | token revoke <id>';

/** `--expires` as a lifetime from now ("90d") or an absolute time ("2027-01-31"); neither = until revoked. */
function expiryOf(text: string | undefined): CreateTokenOptions {
  if (text === undefined) return {};
  const ms = parseDuration(text);
  if (ms !== undefined) return { expiresInMs: ms };
  if (Number.isNaN(Date.parse(text)) || !/^\d{4}-\d{2}-\d{2}/.test(text)) {
    throw new UsageError(`--expires: "${text}" is neither a lifetime (30d, 12h) nor a time (2027-01-31 or 2027-01-31T18:00:00Z)`);
  }
  return { expiresAt: text };
}

async function commandToken(config: Config, args: string[]) {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { role: { type: 'string' }, name: { type: 'string' }, expires: { type: 'string' }, json: { type: 'boolean' } },
  });
  const [sub, id] = positionals;
  if (sub !== 'create' && sub !== 'list' && sub !== 'revoke') throw new UsageError(TOKEN_USAGE);
  let create: { role: Role; name: string; expiry: CreateTokenOptions } | undefined;
  if (sub === 'create') {
    const role = RoleSchema.safeParse(values.role);
    if (!role.success) throw new UsageError('--role: expected one of viewer, responder, commander, admin');
    if (!values.name?.trim()) throw new UsageError('--name: give the token a name (who or what uses it)');
    create = { role: role.data, name: values.name.trim(), expiry: expiryOf(values.expires) };
  }
  if (sub === 'revoke' && !id) throw new UsageError('fireline token revoke <id> (the ids are in `fireline token list`)');
  const store = await openStore(config);
  try {
    const tokens = createTokenService({ store });
    const by = cliActionContext(os.userInfo().username, `token ${sub}`);
    if (create) {
      const { token, record } = await tokens.create(create.name, create.role, by, create.expiry);
      const until = record.expiresAt ? `, expires ${record.expiresAt}` : '';
      out(`Created ${record.role} token "${record.name}" (id ${record.id}${until}). It is shown only now:`);
      out(token);
    } else if (sub === 'list') {
      const list = await tokens.list();
      if (values.json) out(JSON.stringify(list, null, 2));
      else out(formatTokenTable(list));
    } else {
      const { token, changed } = await tokens.revoke(id!, by, { allowLastAdmin: true });
      out(
        changed
          ? `Revoked ${token.role} token "${token.name}" (id ${token.id}); its page sessions are signed out.`
          : `Token ${token.id} was revoked already (${token.revokedAt}).`,
      );
    }
  } finally {
    await store.close();
  }
}

function formatTokenTable(list: TokenView[]): string {
  if (list.length === 0) return 'No tokens.';
  const rows = [
    ['ID', 'NAME', 'ROLE', 'STATE', 'CREATED', 'EXPIRES', 'LAST USED'],
    ...list.map((t) => [t.id, t.name, t.role, t.state, t.createdAt, t.expiresAt ?? 'never', t.lastUsedAt ?? 'never']),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/**
 * The entry alone on stdout (so `fireline keys new > file` holds just it), how to roll it out on stderr. It
 * never reads or prints the current keys.
 */
function commandKeys(config: Config, args: string[]) {
  const { positionals } = parseArgs({ args, allowPositionals: true });
  if (positionals[0] !== 'new' || positionals.length > 2) throw new UsageError('fireline keys new [id]');
  const id = positionals[1] ?? `k${new Date().toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-')}`;
  const entry = newKeyEntry(id);
  try {
    parseKeyRing(entry);
  } catch (err) {
    if (err instanceof KeyRingError) throw new UsageError(`id: ${err.message}`);
    throw err;
  }
  const current = config.FIRELINE_PAYLOAD_KEYS;
  if (current !== undefined && current.split(',').some((e) => e.trim().split('=')[0]?.trim() === id)) {
    throw new UsageError(`id: "${id}" is already in FIRELINE_PAYLOAD_KEYS; choose another`);
  }
  out(entry);
  const note = (line: string) => process.stderr.write(`${line}\n`);
  note('');
  note('To rotate, prepend it to FIRELINE_PAYLOAD_KEYS on every worker and API replica, keeping the old keys after it:');
  note(`  FIRELINE_PAYLOAD_KEYS=${id}=<the key above>,<the current entries>`);
  note('The first key seals new payloads, every listed key opens. In a rolling deploy, where old processes still run,');
  note('first append it (all can open it), then prepend it once every process has it. Drop an old key only when no');
  note('history sealed with it is still read (past Temporal retention).');
  note(`Embedded (no FIRELINE_PAYLOAD_KEYS): the ring is ${config.dataDir}/${KEY_FILE}, same format.`);
  note('Keep it secret: it is shown only now and never logged.');
}

async function commandRunbooks(config: Config, args: string[]): Promise<number> {
  const [sub, ...paths] = args;
  if (sub === 'schema') {
    const { values } = parseArgs({ args: paths, options: { out: { type: 'string' } } });
    const text = JSON.stringify(runbookJsonSchema(), null, 2) + '\n';
    if (values.out) {
      fs.writeFileSync(values.out, text);
      out(`wrote ${values.out}`);
    } else {
      process.stdout.write(text);
    }
    return 0;
  }
  if (sub !== 'validate') throw new UsageError('fireline runbooks validate [paths] | fireline runbooks schema [--out file]');
  const policies = loadOnCallSource(config, createLogger({ level: 'silent' }))
    .current()
    .escalationPolicies.map((p) => p.id);
  const result = await validateRunbookFiles(paths.length ? paths : [config.runbooksDir], {
    targets: loadTargetsOrFail(config, process.env),
    escalationPolicies: policies,
  });
  printValidation(result, (s) => process.stdout.write(s));
  return result.problems.length ? 1 : 0;
}

async function commandDrill(config: Config, logger: Logger, args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { 'no-follow': { type: 'boolean' } } });
  if (positionals[0] !== 'run' || !positionals[1]) throw new UsageError('fireline drill run <runbook> [--no-follow]');
  const address = config.TEMPORAL_ADDRESS ?? `127.0.0.1:${config.TEMPORAL_DEV_PORT}`;
  // Embedded: the running `fireline start`'s key file in the same data dir, so its worker can read the drill.
  const keys = await resolveKeyRing(config);
  const store = await openStore(config);
  try {
    const drill = await runDrill({
      config,
      logger,
      store,
      address,
      keys,
      runbookId: positionals[1],
      follow: !values['no-follow'],
      write: out,
    });
    return drill.status === 'closed' || values['no-follow'] ? 0 : 1;
  } finally {
    await store.close();
  }
}

async function commandMigrate(config: Config) {
  const store = await openStore(config);
  await store.close();
  out(`read model up to date: ${describeStore(config)}`);
}

async function commandStore(config: Config, args: string[]): Promise<number> {
  const usage = 'fireline store copy --to postgres://user:pass@host:5432/db [--from data/fireline.db]';
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { to: { type: 'string' }, from: { type: 'string' } } });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${usage}`);
  }
  const { positionals, values } = parsed;
  if (positionals[0] !== 'copy' || positionals.length > 1) throw new UsageError(usage);
  const to = values.to ?? '';
  if (!/^postgres(ql)?:\/\//.test(to)) throw new UsageError(`--to: expected postgres://user:pass@host:port/db\n${usage}`);
  const from = values.from ?? sqliteFile(config);
  if (!fs.existsSync(from)) throw new UsageError(`--from: ${from} does not exist (an embedded install keeps it in its data dir)`);
  const started = Date.now();
  // The target's schema first, through the same migrations every replica runs.
  const target = await openStore({ ...config, DATABASE_URL: to });
  await target.close();
  out(`copying ${from} → ${redactUrl(to)}`);
  const results = await copyStoreToPostgres(from, to, (p) => {
    if (p.target < 0) return;
    const line = `  ${p.table.padEnd(18)} ${String(p.source).padStart(8)} rows, ${p.inserted} new, ${p.target} there now`;
    out(p.resumed ? `${line} (copied by the interrupted run)` : line);
  });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const short = results.filter((r) => r.target < r.source);
  if (short.length) {
    out(`not complete: ${short.map((r) => r.table).join(', ')} has fewer rows in PostgreSQL than in SQLite`);
    return 1;
  }
  const rows = results.reduce((n, r) => n + r.source, 0);
  const inserted = results.reduce((n, r) => n + r.inserted, 0);
  out(
    `done in ${seconds} s: ${rows} rows, ${inserted} new; every row is in PostgreSQL, start the scaled stack with DATABASE_URL set to it`,
  );
  return 0;
}

/** Exit 0 when the chain verifies, 1 naming the first entry that does not. */
async function commandAudit(config: Config, args: string[]): Promise<number> {
  if (args[0] !== 'verify' || args.length > 1) throw new UsageError('fireline audit verify');
  const store = await openStore(config);
  try {
    const verification = await verifyAuditChain(store);
    (verification.ok ? out : (text: string) => process.stderr.write(text + '\n'))(describeVerification(verification));
    return verification.ok ? 0 : 1;
  } finally {
    await store.close();
  }
}

class UsageError extends Error {}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    out(USAGE);
    return command ? 0 : 2;
  }
  if (command === 'demo') {
    await commandDemo(rest);
    return -1;
  }
  const config = loadConfig(process.env);
  processSecrets.add(...secretSettingValues(config));
  const logger = createLogger({ level: config.FIRELINE_LOG_LEVEL });
  switch (command) {
    case 'start':
      await commandStart(config, logger);
      return -1;
    case 'worker':
      await commandWorker(config, logger);
      return 0;
    case 'api':
      await commandApi(config, logger);
      return -1;
    case 'token':
      await commandToken(config, rest);
      return 0;
    case 'keys':
      commandKeys(config, rest);
      return 0;
    case 'runbooks':
      return commandRunbooks(config, rest);
    case 'drill':
      return commandDrill(config, logger, rest);
    case 'migrate':
      await commandMigrate(config);
      return 0;
    case 'store':
      return commandStore(config, rest);
    case 'audit':
      return commandAudit(config, rest);
    default:
      throw new UsageError(`unknown command "${command}"\n\n${USAGE}`);
  }
}

if (require.main === module || process.argv[1]?.endsWith('fireline.cjs')) {
  main(process.argv.slice(2)).then(
    (code) => {
      // -1: a server keeps running until a signal stops it.
      if (code >= 0) process.exit(code);
    },
    (err: unknown) => {
      if (err instanceof ConfigError || err instanceof UsageError || err instanceof TemporalCliNotFoundError) {
        process.stderr.write(`fireline: ${err.message}\n`);
        process.exit(2);
      }
      process.stderr.write(`fireline: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
