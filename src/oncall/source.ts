import { statSync } from 'node:fs';
import type { OnCallConfig } from '../domain/oncall';
import { loadOnCall, loadOnCallOrFail } from './load';
import type { OnCallProblem } from './load';

export interface OnCallSource {
  /** The last configuration that loaded cleanly; re-reads the file when it changed. */
  current(): OnCallConfig;
}

/** Cheap enough per request, but a burst of requests should not stat the file each time. */
const CHECK_INTERVAL_MS = 1000;

function signature(file: string): string {
  try {
    const s = statSync(file);
    return `${s.mtimeMs}:${s.size}`;
  } catch {
    return 'missing';
  }
}

/**
 * config/oncall.yaml, reloaded when it changes. The first load must succeed (OnCallConfigError otherwise);
 * after that a broken edit keeps the last good configuration and is reported through `onProblems`, so a
 * typo made during an incident never leaves Fireline without schedules.
 */
export function createOnCallSource(
  file: string,
  opts: {
    onProblems?: (problems: OnCallProblem[]) => void;
    /** A changed file that loaded cleanly and replaced `previous` (for the audit log). */
    onReload?: (previous: OnCallConfig, current: OnCallConfig) => void;
    now?: () => number;
  } = {},
): OnCallSource {
  const now = opts.now ?? Date.now;
  let seen = signature(file);
  let config: OnCallConfig = loadOnCallOrFail(file);
  let checkedAt = now();
  return {
    current() {
      if (now() - checkedAt < CHECK_INTERVAL_MS) return config;
      checkedAt = now();
      const latest = signature(file);
      if (latest === seen) return config;
      seen = latest;
      const result = loadOnCall(file);
      if (result.ok) {
        const previous = config;
        config = result.config;
        opts.onReload?.(previous, config);
      } else {
        opts.onProblems?.(result.problems);
      }
      return config;
    },
  };
}
