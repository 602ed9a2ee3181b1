import { PHASES, type Condition, type Phase, type Runbook, type Step } from '../domain/runbook';
import type { Targets } from '../domain/targets';

/** A key or list index on the way from the document root to a value. */
export type PathSegment = string | number;
export type RunbookPath = readonly PathSegment[];

/** 1-based, as editors and `file:line:col` links expect. */
export interface Position {
  line: number;
  col: number;
}

/** Finds where a path sits in the source file; falls back to the nearest ancestor that exists. */
export type Locate = (path: RunbookPath) => Position;

export interface RunbookProblem {
  file: string;
  line: number;
  col: number;
  /** Like `phases.decide[0].default`; empty for problems with the file as a whole. */
  path: string;
  message: string;
}

/** What a rule reports: positions are added by `checkRunbook`, so rules stay pure functions of the runbook. */
export interface Finding {
  path: RunbookPath;
  message: string;
}

/** What rules may know beyond the runbook itself; later rules add fields (known escalation policies, …). */
export interface RuleContext {
  /** The file's base name without extension; the runbook id must equal it so `get(id)` finds the file. */
  fileId?: string;
  /** config/targets.yaml; when given, backup targets, commands, databases and secrets must exist there. */
  targets?: Targets;
  /** Escalation policies from config/oncall.yaml; when given, `escalation` must name one. */
  escalationPolicies?: readonly string[];
}

export type RunbookRule = (runbook: Runbook, context: RuleContext) => Finding[];

export interface CheckOptions extends RuleContext {
  /** Shown in problems; usually the path the runbook was read from. */
  file: string;
  locate?: Locate;
  rules?: readonly RunbookRule[];
}

const SIMPLE_KEY = /^[A-Za-z_$][\w$-]*$/;

export function formatPath(path: RunbookPath): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (SIMPLE_KEY.test(segment)) text += text ? `.${segment}` : segment;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}

interface LocatedStep {
  step: Step;
  phase: Phase;
  path: RunbookPath;
}

/** Steps in execution order, each with its path in the document. */
export function stepsOf(runbook: Runbook): LocatedStep[] {
  return PHASES.flatMap((phase) => runbook.phases[phase].map((step, index) => ({ step, phase, path: ['phases', phase, index] })));
}

export const idMatchesFileName: RunbookRule = (runbook, { fileId }) =>
  fileId === undefined || runbook.id === fileId
    ? []
    : [{ path: ['id'], message: `id "${runbook.id}" must equal the file name "${fileId}" (rename the file or change the id)` }];

export const retrospectiveRequired: RunbookRule = (runbook) =>
  runbook.phases.retrospective.length > 0
    ? []
    : [
        {
          path: ['phases', 'retrospective'],
          message: 'a retrospective phase with at least one step is required, so every incident ends with a review',
        },
      ];

export const uniqueStepIds: RunbookRule = (runbook) => {
  const firstUse = new Map<string, RunbookPath>();
  const findings: Finding[] = [];
  for (const { step, path } of stepsOf(runbook)) {
    const first = firstUse.get(step.id);
    if (first) {
      findings.push({ path: [...path, 'id'], message: `duplicate step id "${step.id}" (first used at ${formatPath([...first, 'id'])})` });
    } else {
      firstUse.set(step.id, path);
    }
  }
  return findings;
};

/** The schema accepts "0s"; a zero wait or timeout is always a mistake (a decision would time out at once). */
export const positiveDurations: RunbookRule = (runbook) =>
  stepsOf(runbook).flatMap(({ step, path }) => {
    const findings: Finding[] = [];
    if (step.timeout === 0) {
      const why = step.kind === 'decide' ? ' (the default would be taken before anyone can answer)' : '';
      findings.push({ path: [...path, 'timeout'], message: `timeout must be longer than 0${why}` });
    }
    if (step.kind === 'wait' && step.duration === 0) {
      findings.push({ path: [...path, 'duration'], message: 'wait duration must be longer than 0' });
    }
    return findings;
  });

/** Step ids a condition refers to, with the path of each reference inside the condition. */
function conditionRefs(condition: Condition, path: RunbookPath): { step: string; path: RunbookPath }[] {
  if ('all' in condition) return condition.all.flatMap((c, i) => conditionRefs(c, [...path, 'all', i]));
  if ('any' in condition) return condition.any.flatMap((c, i) => conditionRefs(c, [...path, 'any', i]));
  if ('not' in condition) return conditionRefs(condition.not, [...path, 'not']);
  return 'step' in condition ? [{ step: condition.step, path: [...path, 'step'] }] : [];
}

/** `when` may only look at steps that ran before: a forward reference would always see "no output". */
export const backwardWhenReferences: RunbookRule = (runbook) => {
  const seen = new Set<string>();
  const all = new Set(stepsOf(runbook).map(({ step }) => step.id));
  const findings: Finding[] = [];
  for (const { step, path } of stepsOf(runbook)) {
    for (const ref of step.when ? conditionRefs(step.when, [...path, 'when']) : []) {
      if (ref.step === step.id) findings.push({ path: ref.path, message: `step "${step.id}" cannot depend on itself` });
      else if (!all.has(ref.step)) findings.push({ path: ref.path, message: `no step "${ref.step}" in this runbook` });
      else if (!seen.has(ref.step))
        findings.push({ path: ref.path, message: `"${ref.step}" runs after "${step.id}"; conditions may only refer to earlier steps` });
    }
    seen.add(step.id);
  }
  return findings;
};

/** Compensations are named once and referenced by steps; both ends must match. */
export const compensationsExist: RunbookRule = (runbook) =>
  stepsOf(runbook).flatMap(({ step, path }) => {
    const findings: Finding[] = [];
    if (step.compensate && !(step.compensate in runbook.compensations)) {
      const known = Object.keys(runbook.compensations);
      findings.push({
        path: [...path, 'compensate'],
        message: `no compensation "${step.compensate}"${known.length ? ` (known: ${known.join(', ')})` : ' (add it under compensations)'}`,
      });
    }
    if (step.onFailure === 'compensate' && !stepsOf(runbook).some((s) => s.step.compensate)) {
      findings.push({ path: [...path, 'onFailure'], message: 'onFailure: compensate, but no step has a compensate to run' });
    }
    return findings;
  });

/** A task belongs to a role the runbook declares, so the incident page can show who owns it. */
export const taskAssigneesDeclared: RunbookRule = (runbook) =>
  stepsOf(runbook).flatMap(({ step, path }) =>
    step.kind === 'task' && step.assignee !== 'commander' && !runbook.roles.includes(step.assignee)
      ? [
          {
            path: [...path, 'assignee'],
            message: `role "${step.assignee}" is not in the runbook's roles (${runbook.roles.join(', ') || 'none declared'})`,
          },
        ]
      : [],
  );

/** Backup targets, commands, databases and secrets are named in config/targets.yaml, never spelled out in a runbook. */
export const targetsKnown: RunbookRule = (runbook, { targets }) => {
  if (!targets) return [];
  const missing = (kind: string, name: string, known: Record<string, unknown>) =>
    `no ${kind} "${name}" in config/targets.yaml${Object.keys(known).length ? ` (known: ${Object.keys(known).join(', ')})` : ''}`;
  const findings: Finding[] = [];
  for (const { step, path } of stepsOf(runbook)) {
    if (step.kind === 'backup' && !(step.target in targets.backups))
      findings.push({ path: [...path, 'target'], message: missing('backup target', step.target, targets.backups) });
    if (step.kind === 'action' && step.command && !(step.command in targets.commands))
      findings.push({ path: [...path, 'command'], message: missing('command', step.command, targets.commands) });
    if (step.kind === 'action' && step.http?.secret && !(step.http.secret in targets.secrets))
      findings.push({ path: [...path, 'http', 'secret'], message: missing('secret', step.http.secret, targets.secrets) });
    if (step.kind === 'verify' && 'sql' in step.check && !(step.check.sql.database in targets.databases))
      findings.push({
        path: [...path, 'check', 'sql', 'database'],
        message: missing('database', step.check.sql.database, targets.databases),
      });
  }
  for (const [name, c] of Object.entries(runbook.compensations)) {
    if (c.command && !(c.command in targets.commands))
      findings.push({ path: ['compensations', name, 'command'], message: missing('command', c.command, targets.commands) });
    if (c.http?.secret && !(c.http.secret in targets.secrets))
      findings.push({ path: ['compensations', name, 'http', 'secret'], message: missing('secret', c.http.secret, targets.secrets) });
  }
  return findings;
};

export const escalationPolicyKnown: RunbookRule = (runbook, { escalationPolicies }) =>
  escalationPolicies && runbook.escalation && !escalationPolicies.includes(runbook.escalation)
    ? [{ path: ['escalation'], message: `no escalation policy "${runbook.escalation}" in config/oncall.yaml` }]
    : [];

/** Every rule `checkRunbook` runs by default; add new rules here. */
export const RUNBOOK_RULES: readonly RunbookRule[] = [
  idMatchesFileName,
  uniqueStepIds,
  positiveDurations,
  retrospectiveRequired,
  backwardWhenReferences,
  compensationsExist,
  taskAssigneesDeclared,
  targetsKnown,
  escalationPolicyKnown,
];

const NOWHERE: Locate = () => ({ line: 1, col: 1 });

/** Semantic checks that need the whole, schema-valid runbook. */
export function checkRunbook(runbook: Runbook, options: CheckOptions): RunbookProblem[] {
  const { file, locate = NOWHERE, rules = RUNBOOK_RULES } = options;
  return rules
    .flatMap((rule) => rule(runbook, options))
    .map(({ path, message }) => ({ file, ...locate(path), path: formatPath(path), message }));
}
