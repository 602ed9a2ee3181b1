import { z } from 'zod';
import { DurationSchema } from './duration';

const Name = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'use lowercase letters, digits and dashes');

/**
 * Values in config/targets.yaml may be `${ENV_VAR}` references, resolved when used, so connection strings
 * and secrets live in the environment, never in files, workflow histories or logs.
 */
const Text = z.string().min(1).max(2000);

export const DatabaseTargetSchema = z
  .object({
    driver: z.enum(['postgres', 'sqlite']),
    /** postgres://… for postgres; a file path for sqlite. */
    url: Text,
  })
  .strict();

const SqliteBackup = z.object({ provider: z.literal('sqlite'), path: Text }).strict();
const PostgresBackup = z
  .object({
    provider: z.literal('postgres'),
    /** A connection string; the backup runs pg_dump against it. */
    url: Text,
  })
  .strict();
const HttpBackup = z
  .object({
    provider: z.literal('http'),
    /** Starts a backup; answers JSON with an `id` (or `location`) to poll. */
    start: z
      .object({ url: Text, method: z.enum(['POST', 'PUT']).default('POST'), headers: z.record(z.string(), Text).optional() })
      .strict(),
    /** Polled with `{id}` substituted until `status` is `done` or `failed`. */
    status: z.object({ url: Text, headers: z.record(z.string(), Text).optional() }).strict(),
    /** Cancels a running backup with `{id}` substituted (optional). */
    cancel: z
      .object({ url: Text, method: z.enum(['POST', 'DELETE']).default('POST') })
      .strict()
      .optional(),
    pollInterval: DurationSchema.default(5000),
  })
  .strict();
const BackupProvider = z.discriminatedUnion('provider', [SqliteBackup, PostgresBackup, HttpBackup]);
export type BackupProviderConfig = z.infer<typeof BackupProvider>;

/** A backup target, optionally with the copy a drill uses instead (any provider). */
export const BackupTargetSchema = z.discriminatedUnion('provider', [
  SqliteBackup.extend({ drill: BackupProvider.optional() }),
  PostgresBackup.extend({ drill: BackupProvider.optional() }),
  HttpBackup.extend({ drill: BackupProvider.optional() }),
]);

export const CommandSchema = z
  .object({
    /** argv, run without a shell. */
    argv: z.array(Text).min(1).max(50),
    timeout: DurationSchema.default(60_000),
    description: z.string().max(500).optional(),
  })
  .strict();

export const SecretSchema = z.object({ env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name') }).strict();

export const TargetsSchema = z
  .object({
    databases: z.record(Name, DatabaseTargetSchema.extend({ drill: DatabaseTargetSchema.optional() })).default({}),
    backups: z.record(Name, BackupTargetSchema).default({}),
    commands: z.record(Name, CommandSchema.extend({ drill: CommandSchema.optional() })).default({}),
    secrets: z.record(Name, SecretSchema).default({}),
  })
  .strict();
export type Targets = z.infer<typeof TargetsSchema>;
export type DatabaseTarget = z.infer<typeof DatabaseTargetSchema>;
export type CommandTarget = z.infer<typeof CommandSchema>;

export const EMPTY_TARGETS: Targets = { databases: {}, backups: {}, commands: {}, secrets: {} };
