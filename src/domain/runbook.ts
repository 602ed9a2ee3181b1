import { z } from 'zod';
import { DurationSchema } from './duration';
import { RoleSchema } from './roles';
import { RiskSchema, SeveritySchema } from './severity';

export const PHASES = ['detect', 'report', 'decide', 'execute', 'recover', 'retrospective'] as const;
export const PhaseSchema = z.enum(PHASES);
export type Phase = z.infer<typeof PhaseSchema>;

const IdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'use lowercase letters, digits and dashes (at most 63), starting with a letter or digit');

/** Fields every step kind shares. Durations are text in YAML and milliseconds once parsed. */
const StepBase = {
  id: IdSchema,
  title: z.string().min(1).max(200).optional(),
  timeout: DurationSchema.optional(),
  retries: z.number().int().min(0).max(20).optional(),
  onFailure: z.enum(['abort', 'continue']).optional(),
};

export const NotifyStepSchema = z
  .object({
    ...StepBase,
    kind: z.literal('notify'),
    /** Channel type; when that channel is not configured the message lands in the outbox. */
    via: z.enum(['outbox', 'slack', 'email', 'webhook']).default('outbox'),
    /** Slack channel, email address or webhook target name, depending on `via`. */
    to: z.string().min(1).max(200).optional(),
    /** Text with ${incident.field} placeholders, rendered when sent. */
    message: z.string().min(1).max(4000),
  })
  .strict();

export const DecideStepSchema = z
  .object({
    ...StepBase,
    kind: z.literal('decide'),
    prompt: z.string().min(1).max(500),
    options: z.array(IdSchema).min(2).max(10),
    /** How long to wait for a human before taking `default`. */
    timeout: DurationSchema,
    default: IdSchema,
    /** Least role allowed to decide. */
    approver: RoleSchema.default('commander'),
  })
  .strict()
  .superRefine((step, ctx) => {
    if (!step.options.includes(step.default)) {
      ctx.addIssue({ code: 'custom', path: ['default'], message: `default "${step.default}" is not one of the options` });
    }
    if (new Set(step.options).size !== step.options.length) {
      ctx.addIssue({ code: 'custom', path: ['options'], message: 'options must be unique' });
    }
  });

export const WaitStepSchema = z
  .object({
    ...StepBase,
    kind: z.literal('wait'),
    duration: DurationSchema,
  })
  .strict();

export const StepSchema = z.discriminatedUnion('kind', [NotifyStepSchema, DecideStepSchema, WaitStepSchema]);
export type Step = z.infer<typeof StepSchema>;
export type StepKind = Step['kind'];
export type NotifyStep = z.infer<typeof NotifyStepSchema>;
export type DecideStep = z.infer<typeof DecideStepSchema>;
export type WaitStep = z.infer<typeof WaitStepSchema>;

export const PhasesSchema = z
  .object({
    detect: z.array(StepSchema).default([]),
    report: z.array(StepSchema).default([]),
    decide: z.array(StepSchema).default([]),
    execute: z.array(StepSchema).default([]),
    recover: z.array(StepSchema).default([]),
    retrospective: z.array(StepSchema).default([]),
  })
  .strict();

export const RunbookSchema = z
  .object({
    id: IdSchema,
    title: z.string().min(1).max(200),
    owner: z.string().min(1).max(100),
    description: z.string().max(4000).optional(),
    service: z.string().min(1).max(100).optional(),
    risk: RiskSchema.optional(),
    severity: SeveritySchema.optional(),
    /**
     * When the recover phase ends without a human resolving, resolve on the runbook's behalf.
     * Off means the incident waits in recover for an explicit resolve.
     */
    autoResolve: z.boolean().default(true),
    phases: PhasesSchema,
  })
  .strict();
export type Runbook = z.infer<typeof RunbookSchema>;

/**
 * What a workflow runs: the parsed runbook pinned at declare time, with the content hash of the file it
 * came from, so editing the file never changes an incident already running.
 */
export interface RunbookSnapshot {
  runbook: Runbook;
  /** sha256 of the file's bytes, hex. */
  version: string;
  /** Path relative to the runbooks directory. */
  source: string;
}
