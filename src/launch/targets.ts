import path from 'node:path';
import { ConfigError } from '../config';
import type { Config } from '../config';
import type { Targets } from '../domain/targets';
import type { Logger } from '../logger';
import { formatTargetsProblem, loadTargets } from '../targets/load';
import { warnOnce } from './warnings';

export function targetsFile(config: Config): string {
  return path.join(config.configDir, 'targets.yaml');
}

/** config/targets.yaml, checked at start: a broken file stops start-up with file:line messages. */
export function loadTargetsOrFail(config: Config, env: Record<string, string | undefined>, logger?: Logger): Targets {
  const file = targetsFile(config);
  const result = loadTargets(file, env);
  if (!result.ok) throw new ConfigError(result.problems.map(formatTargetsProblem));
  // Unset variables only matter to the steps that use them; say so once instead of failing start-up.
  if (logger) warnOnce(logger, 'config/targets.yaml', result.warnings.map(formatTargetsProblem));
  return result.targets;
}
