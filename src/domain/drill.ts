// Import-free on purpose: the workflow bundle and every channel may use it (see eslint.config.mjs, WORKFLOW_SAFE_DOMAIN).

/** What marks every message of a drill, so nobody mistakes an exercise for an outage. */
export const DRILL_PREFIX = '[DRILL]';

/** `[DRILL] ` during a drill, else nothing: put in front of a subject or body. */
export function drillMark(drill: boolean): string {
  return drill ? `${DRILL_PREFIX} ` : '';
}
