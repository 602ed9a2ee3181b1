import { z } from 'zod';
import { ROLES } from './role-order';

export { ROLES, roleAtLeast } from './role-order';
export const RoleSchema = z.enum(ROLES);
export type Role = z.infer<typeof RoleSchema>;

/** Who did something: a token holder, a Slack user, the runbook itself, or monitoring. */
export const ActorSchema = z.object({
  id: z.string().min(1).max(200),
  name: z.string().min(1).max(200),
  role: RoleSchema,
});
export type Actor = z.infer<typeof ActorSchema>;

export const SYSTEM_ACTOR: Actor = { id: 'fireline', name: 'Fireline', role: 'admin' };
