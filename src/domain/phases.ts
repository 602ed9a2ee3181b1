// Import-free on purpose: the workflow bundle imports it (see eslint.config.mjs, WORKFLOW_SAFE_DOMAIN).

/** The six phases of every incident, in the order the workflow runs them. */
export const PHASES = ['detect', 'report', 'decide', 'execute', 'recover', 'retrospective'] as const;
export type Phase = (typeof PHASES)[number];
