// Import-free on purpose: the workflow bundle imports it (see eslint.config.mjs, WORKFLOW_SAFE_DOMAIN).

/** SEV1 is the worst. Kept as strings so timelines and exports read naturally. */
export const SEVERITIES = ['SEV1', 'SEV2', 'SEV3', 'SEV4'] as const;
export type Severity = (typeof SEVERITIES)[number];

export function isSeverity(value: string): value is Severity {
  return (SEVERITIES as readonly string[]).includes(value);
}
