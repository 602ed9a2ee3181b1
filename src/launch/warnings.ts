import type { Logger } from '../logger';

/**
 * Config warnings (mostly `${ENV_VAR}` references not set here) as one log line per file: a fresh install with
 * the example configs should start with a short note, not a screenful.
 */
export function warnOnce(logger: Logger, file: string, warnings: string[]): void {
  if (!warnings.length) return;
  const unset = [...new Set(warnings.flatMap((w) => /\b([A-Z][A-Z0-9_]+) is not set\b/.exec(w)?.[1] ?? []))];
  const other = warnings.filter((w) => !/ is not set\b/.test(w));
  if (unset.length)
    logger.warn({ file, unset }, `${file}: ${unset.length} environment variable(s) not set; what uses them fails until they are`);
  for (const w of other) logger.warn({ file }, w);
}
