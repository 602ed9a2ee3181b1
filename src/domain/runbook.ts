import { z } from 'zod';
import { DurationSchema } from './duration';
import { ID_PATTERN } from './limits';
import { PHASES } from './phases';
import { RoleSchema } from './roles';
import { RiskSchema, SeveritySchema } from './severity';

export { PHASES } from './phases';
export const PhaseSchema = z.enum(PHASES);
export type Phase = z.infer<typeof PhaseSchema>;

export const IdSchema = z
  .string()
  .regex(ID_PATTERN, 'use lowercase letters, digits and dashes (at most 63), starting with a letter or digit');

const Scalar = z.union([z.string(), z.number(), z.boolean()]);
export type ConditionValue = z.infer<typeof Scalar>;

/**
 * `when` conditions: over an earlier step's output (`result` unless `field` says otherwise), over the
 * incident (severity, service, drill, trigger), or combinations. References only point backwards.
 */
export type Condition =
  | { step: string; field?: string; is?: ConditionValue; isNot?: ConditionValue; in?: ConditionValue[] }
  | { incident: 'severity' | 'service' | 'drill' | 'trigger'; is?: ConditionValue; isNot?: ConditionValue; in?: ConditionValue[] }
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition };

const comparators = {
  is: Scalar.optional(),
  isNot: Scalar.optional(),
  in: z.array(Scalar).min(1).optional(),
};

function exactlyOneComparator(c: { is?: unknown; isNot?: unknown; in?: unknown }, ctx: z.RefinementCtx) {
  const given = (['is', 'isNot', 'in'] as const).filter((k) => c[k] !== undefined);
  if (given.length !== 1) ctx.addIssue({ code: 'custom', message: 'give exactly one of is, isNot, in' });
}

export const ConditionSchema: z.ZodType<Condition> = z.lazy(() =>
  z.union([
    z
      .object({ step: IdSchema, field: z.string().min(1).max(63).optional(), ...comparators })
      .strict()
      .superRefine(exactlyOneComparator),
    z
      .object({ incident: z.enum(['severity', 'service', 'drill', 'trigger']), ...comparators })
      .strict()
      .superRefine(exactlyOneComparator),
    z.object({ all: z.array(ConditionSchema).min(1) }).strict(),
    z.object({ any: z.array(ConditionSchema).min(1) }).strict(),
    z.object({ not: ConditionSchema }).strict(),
  ]),
);

/** How a step behaves in a drill: `real` runs it (against drill targets where the config names them), `simulate` only records it. */
export const DrillBehaviourSchema = z.enum(['real', 'simulate']);
export type DrillBehaviour = z.infer<typeof DrillBehaviourSchema>;

/** What a drill does with a step kind unless the step says otherwise: side effects on systems are simulated. */
export const DEFAULT_DRILL_BEHAVIOUR: Record<
  'notify' | 'page' | 'decide' | 'verify' | 'action' | 'backup' | 'wait' | 'task' | 'postmortem',
  DrillBehaviour
> = {
  notify: 'real',
  page: 'real',
  decide: 'real',
  verify: 'real',
  action: 'simulate',
  backup: 'simulate',
  wait: 'real',
  task: 'real',
  postmortem: 'real',
};

/** Fields every step kind shares. Durations are text in YAML and milliseconds once parsed. */
const StepBase = {
  id: IdSchema,
  title: z.string().min(1).max(200).optional(),
  when: ConditionSchema.optional(),
  timeout: DurationSchema.optional(),
  retries: z.number().int().min(0).max(20).optional(),
  onFailure: z.enum(['abort', 'continue', 'compensate']).optional(),
  /** Name of an entry in the runbook's `compensations`, run (in reverse order) when a later step fails with onFailure: compensate. */
  compensate: IdSchema.optional(),
};

/** `drill` with the kind's default filled in at parse time, so the workflow never needs the table. */
const drillFor = (kind: keyof typeof DEFAULT_DRILL_BEHAVIOUR) => ({ drill: DrillBehaviourSchema.default(DEFAULT_DRILL_BEHAVIOUR[kind]) });

export const NotifyStepSchema = z
  .object({
    ...StepBase,
    ...drillFor('notify'),
    kind: z.literal('notify'),
    /** Channel type; when that channel is not configured the message lands in the outbox. */
    via: z.enum(['outbox', 'slack', 'email', 'webhook']).default('outbox'),
    /** Slack channel, email address or webhook target name, depending on `via`. */
    to: z.string().min(1).max(200).optional(),
    /** Text with ${incident.field}, ${decision.step} and ${params.name} placeholders, rendered when sent. */
    message: z.string().min(1).max(4000),
  })
  .strict();

export const PageStepSchema = z
  .object({
    ...StepBase,
    ...drillFor('page'),
    kind: z.literal('page'),
    /** Escalation policy in config/oncall.yaml; defaults to the runbook's `escalation`. */
    policy: IdSchema.optional(),
    /** What the page says; defaults to the incident's title and severity. */
    message: z.string().min(1).max(2000).optional(),
    /**
     * `ack`: the step lasts until someone acknowledges (or the policy runs out, which fails the step).
     * `none`: paging goes on in the background while the runbook moves on; acknowledging still stops it.
     */
    wait: z.enum(['ack', 'none']).default('ack'),
  })
  .strict();

export const DecideStepSchema = z
  .object({
    ...StepBase,
    ...drillFor('decide'),
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

const HttpExpectSchema = z.union([
  z.number().int().min(100).max(599),
  z
    .object({
      status: z.number().int().min(100).max(599).default(200),
      /** The body must contain this text. */
      body: z.string().min(1).max(1000).optional(),
    })
    .strict(),
]);

export const HttpCheckSchema = z
  .object({
    url: z.string().min(1).max(2000),
    method: z.enum(['GET', 'HEAD', 'POST']).default('GET'),
    headers: z.record(z.string(), z.string().max(2000)).optional(),
    expect: HttpExpectSchema.default(200),
  })
  .strict();

export const TcpCheckSchema = z
  .object({ host: z.string().min(1).max(255), port: z.union([z.number().int().min(1).max(65535), z.string().min(1)]) })
  .strict();

export const SqlCheckSchema = z
  .object({
    /** A database named in config/targets.yaml. */
    database: IdSchema,
    query: z.string().min(1).max(4000),
    /** The first column of the first row must equal this; without it, the query must return a row. */
    expect: Scalar.optional(),
  })
  .strict();

export const CheckSchema = z.union([
  z.object({ http: HttpCheckSchema }).strict(),
  z.object({ tcp: TcpCheckSchema }).strict(),
  z.object({ sql: SqlCheckSchema }).strict(),
]);
export type Check = z.infer<typeof CheckSchema>;

export const VerifyStepSchema = z
  .object({
    ...StepBase,
    ...drillFor('verify'),
    kind: z.literal('verify'),
    check: CheckSchema,
    /** Keep checking until healthy or until this elapses; without it, one check decides. */
    until: DurationSchema.optional(),
    interval: DurationSchema.default(10_000),
  })
  .strict();

export const HttpActionSchema = z
  .object({
    method: z.enum(['POST', 'PUT', 'PATCH', 'DELETE', 'GET']).default('POST'),
    url: z.string().min(1).max(2000),
    headers: z.record(z.string(), z.string().max(2000)).optional(),
    /** JSON body; string values are templates. */
    body: z.record(z.string(), z.unknown()).optional(),
    /** A secret named in config/targets.yaml; the request is signed with HMAC-SHA256. */
    secret: IdSchema.optional(),
  })
  .strict();
export type HttpAction = z.infer<typeof HttpActionSchema>;

/** What an action or a compensation does: a signed HTTP call, or a command an admin allowlisted in config. */
export type ActionSpec = { http: HttpAction; command?: undefined } | { command: string; http?: undefined };

export const ActionStepSchema = z
  .object({ ...StepBase, ...drillFor('action'), kind: z.literal('action') })
  .extend({ http: HttpActionSchema.optional(), command: IdSchema.optional() })
  .strict()
  .superRefine((step, ctx) => {
    if ((step.http === undefined) === (step.command === undefined)) {
      ctx.addIssue({ code: 'custom', path: [step.http ? 'command' : 'http'], message: 'an action needs exactly one of http or command' });
    }
  });

export const BackupStepSchema = z
  .object({
    ...StepBase,
    ...drillFor('backup'),
    kind: z.literal('backup'),
    /** A backup target named in config/targets.yaml. */
    target: IdSchema,
    /** Restore the copy into a scratch database and check it. */
    restoreCheck: z.boolean().default(false),
  })
  .strict();

export const WaitStepSchema = z
  .object({
    ...StepBase,
    ...drillFor('wait'),
    kind: z.literal('wait'),
    /** A fixed pause. */
    duration: DurationSchema.optional(),
    /** Or: until the incident's alerts are resolved, or until a named external event is posted. */
    for: z.union([z.literal('alerts-resolved'), z.object({ event: IdSchema }).strict()]).optional(),
  })
  .strict()
  .superRefine((step, ctx) => {
    if ((step.duration === undefined) === (step.for === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['duration'], message: 'a wait needs exactly one of duration or for' });
    }
  });

export const TaskStepSchema = z
  .object({
    ...StepBase,
    ...drillFor('task'),
    kind: z.literal('task'),
    /** An incident role from the runbook's `roles` (e.g. dpo, legal) that owns the item. */
    assignee: IdSchema,
    description: z.string().min(1).max(2000),
  })
  .strict();

export const PostmortemStepSchema = z
  .object({
    ...StepBase,
    ...drillFor('postmortem'),
    kind: z.literal('postmortem'),
    template: IdSchema.default('default'),
    /** When the post-mortem review is due, counted from resolution. */
    due: DurationSchema.default(5 * 86_400_000),
    /** Keep the incident open until the review is marked done, with reminders (drills never wait). */
    review: z.boolean().default(true),
    /** The first reminder goes out this long before the due date; then at it, then daily while overdue. */
    remindBefore: DurationSchema.default(86_400_000),
  })
  .strict();

export const StepSchema = z.discriminatedUnion('kind', [
  NotifyStepSchema,
  PageStepSchema,
  DecideStepSchema,
  VerifyStepSchema,
  ActionStepSchema,
  BackupStepSchema,
  WaitStepSchema,
  TaskStepSchema,
  PostmortemStepSchema,
]);
export type Step = z.infer<typeof StepSchema>;
export type StepKind = Step['kind'];
export type NotifyStep = z.infer<typeof NotifyStepSchema>;
export type PageStep = z.infer<typeof PageStepSchema>;
export type DecideStep = z.infer<typeof DecideStepSchema>;
export type VerifyStep = z.infer<typeof VerifyStepSchema>;
export type ActionStep = z.infer<typeof ActionStepSchema>;
export type BackupStep = z.infer<typeof BackupStepSchema>;
export type WaitStep = z.infer<typeof WaitStepSchema>;
export type TaskStep = z.infer<typeof TaskStepSchema>;
export type PostmortemStep = z.infer<typeof PostmortemStepSchema>;

export const CompensationSchema = z
  .object({
    title: z.string().min(1).max(200).optional(),
    http: HttpActionSchema.optional(),
    command: IdSchema.optional(),
    timeout: DurationSchema.optional(),
    retries: z.number().int().min(0).max(20).optional(),
    drill: DrillBehaviourSchema.optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if ((c.http === undefined) === (c.command === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['http'], message: 'a compensation needs exactly one of http or command' });
    }
  });
export type Compensation = z.infer<typeof CompensationSchema>;

export const ParameterSchema = z
  .object({
    description: z.string().max(500).optional(),
    default: z.string().max(500).optional(),
    required: z.boolean().default(false),
  })
  .strict();

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
    /** Escalation policy (config/oncall.yaml) for `page` steps that name none. */
    escalation: IdSchema.optional(),
    /** Incident roles beyond the commander (e.g. dpo, legal) that tasks are assigned to. */
    roles: z.array(IdSchema).max(20).default([]),
    /** Values a declaration may set, used in templates as ${params.name}. */
    parameters: z.record(IdSchema, ParameterSchema).default({}),
    compensations: z.record(IdSchema, CompensationSchema).default({}),
    /**
     * When the recover phase ends without a human resolving, resolve on the runbook's behalf.
     * Off means the incident waits in recover for an explicit resolve.
     */
    autoResolve: z.boolean().default(true),
    /**
     * When every alert of the incident has resolved: `resolve` resolves it on monitoring's behalf; `continue`
     * only records it (and lets `wait: { for: alerts-resolved }` steps move on).
     */
    onAlertsResolved: z.enum(['resolve', 'continue']).default('continue'),
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
