import { z } from 'zod';
import type { Actor } from './roles';
import { ActorSchema } from './roles';
import type { Phase } from './runbook';
import { ImpactSchema, LikelihoodSchema, SeveritySchema } from './severity';
import type { Severity } from './severity';

export const INCIDENT_STATUSES = ['open', 'acknowledged', 'resolved', 'closed'] as const;
export const IncidentStatusSchema = z.enum(INCIDENT_STATUSES);
export type IncidentStatus = z.infer<typeof IncidentStatusSchema>;

/** `INC-<n>`, n drawn from the read model's sequence; twelve digits are far past any real count. */
export const IncidentIdSchema = z.string().regex(/^INC-\d{1,12}$/, 'expected an incident id such as INC-12');

/** Where the workflow is: one of the six phases, or closed once the retrospective is done. */
export type IncidentPhase = Phase | 'closed';

/** The immutable facts an incident starts with (workflow input). */
export interface IncidentInfo {
  id: string;
  title: string;
  service: string | null;
  severity: Severity;
  summary: string | null;
  drill: boolean;
  trigger: { kind: 'manual' | 'alert'; by: Actor };
  declaredAt: string;
  /** Runbook parameters set at declaration (defaults filled in); absent on incidents declared before parameters existed. */
  params?: Record<string, string>;
}

/** The read-model row, kept current by the workflow's record activity. */
export interface IncidentRecord extends IncidentInfo {
  runbookId: string;
  runbookVersion: string;
  workflowId: string;
  status: IncidentStatus;
  phase: IncidentPhase;
  acknowledgedAt: string | null;
  resolvedAt: string | null;
  closedAt: string | null;
  updatedAt: string;
}

/** The mutable part of an incident row; the workflow sends these after each change. */
export type IncidentPatch = Partial<Pick<IncidentRecord, 'status' | 'phase' | 'severity' | 'acknowledgedAt' | 'resolvedAt' | 'closedAt'>>;

export const DeclareIncidentSchema = z
  .object({
    title: z.string().trim().min(3).max(200),
    runbook: z.string().min(1).max(63),
    service: z.string().trim().min(1).max(100).optional(),
    severity: SeveritySchema.optional(),
    likelihood: LikelihoodSchema.optional(),
    impact: ImpactSchema.optional(),
    summary: z
      .string()
      .trim()
      .max(4000)
      .transform((v) => v || undefined)
      .optional(),
    drill: z.boolean().optional(),
    parameters: z.record(z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a parameter name'), z.string().max(500)).optional(),
  })
  .strict()
  .superRefine((body, ctx) => {
    if ((body.likelihood === undefined) !== (body.impact === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [body.likelihood === undefined ? 'likelihood' : 'impact'],
        message: 'likelihood and impact go together',
      });
    }
    if (body.severity && body.likelihood) {
      ctx.addIssue({ code: 'custom', path: ['severity'], message: 'give either severity or likelihood + impact, not both' });
    }
  });
export type DeclareIncidentInput = z.infer<typeof DeclareIncidentSchema>;

export { ActorSchema };
