// Import-free on purpose: the workflow bundle imports it (see eslint.config.mjs, WORKFLOW_SAFE_DOMAIN).

/** Ordered from least to most privileged; a role includes every role before it. */
export const ROLES = ['viewer', 'responder', 'commander', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export function roleAtLeast(role: Role, required: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(required);
}
