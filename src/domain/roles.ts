import { z } from 'zod';

/** Ordered from least to most privileged; a role includes every role before it. */
export const ROLES = ['viewer', 'responder', 'commander', 'admin'] as const;
export const RoleSchema = z.enum(ROLES);
export type Role = z.infer<typeof RoleSchema>;

export function roleAtLeast(role: Role, required: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(required);
}

/** Who did something: a token holder, a Slack user, the runbook itself, or monitoring. */
export const ActorSchema = z.object({
  id: z.string().min(1).max(200),
  name: z.string().min(1).max(200),
  role: RoleSchema,
});
export type Actor = z.infer<typeof ActorSchema>;

export const SYSTEM_ACTOR: Actor = { id: 'fireline', name: 'Fireline', role: 'admin' };
