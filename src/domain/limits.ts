// Import-free on purpose: the workflow bundle imports it (see eslint.config.mjs, WORKFLOW_SAFE_DOMAIN).

/** Notes, summaries and task notes on the timeline. */
export const MAX_NOTE_LENGTH = 4000;

/** The JSON of an external event's data (e.g. "backup finished" with its location). */
export const MAX_EVENT_BYTES = 32 * 1024;

/** Runbook, step and event ids: lowercase letters, digits and dashes, at most 63, starting with a letter or digit. */
export const ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
