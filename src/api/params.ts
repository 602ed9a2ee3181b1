import type { Request } from 'express';
import { IncidentIdSchema } from '../domain/incident';
import { HttpError } from './http-error';

/** The `:id` of an incident route; anything that is not an incident id is an incident that does not exist. */
export function incidentIdOf(req: Request): string {
  const parsed = IncidentIdSchema.safeParse(req.params.id);
  if (!parsed.success) throw new HttpError(404, 'not_found', `no incident ${String(req.params.id).slice(0, 40)}`);
  return parsed.data;
}
