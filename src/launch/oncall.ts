import path from 'node:path';
import type { Config } from '../config';
import { ConfigError } from '../config';
import type { OnCallConfig } from '../domain/oncall';
import type { Logger } from '../logger';
import { formatOnCallProblem, OnCallConfigError } from '../oncall/load';
import { createOnCallSource } from '../oncall/source';
import type { OnCallSource } from '../oncall/source';

/**
 * config/oncall.yaml: checked at start (a broken file stops start-up with file:line messages), then reloaded
 * when it changes; a broken edit later keeps the last good version and is logged.
 */
export function loadOnCallSource(
  config: Config,
  logger: Logger,
  onReload?: (previous: OnCallConfig, current: OnCallConfig) => void,
): OnCallSource {
  try {
    return createOnCallSource(path.join(config.configDir, 'oncall.yaml'), {
      onReload,
      onProblems: (problems) => {
        for (const p of problems) logger.error({ file: p.file }, `config/oncall.yaml edit ignored: ${formatOnCallProblem(p)}`);
      },
    });
  } catch (err) {
    if (err instanceof OnCallConfigError) throw new ConfigError(err.problems.map(formatOnCallProblem));
    throw err;
  }
}
