import { PHASES, type Phase, type Runbook, type Step } from '../domain/runbook';

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
  return PHASES.flatMap((phase) =>
    runbook.phases[phase].map((step, index) => ({ step, phase, path: ['phases', phase, index] })),
  );
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

/** Every rule `checkRunbook` runs by default; add new rules here. */
export const RUNBOOK_RULES: readonly RunbookRule[] = [idMatchesFileName, uniqueStepIds, positiveDurations, retrospectiveRequired];

const NOWHERE: Locate = () => ({ line: 1, col: 1 });

/** Semantic checks that need the whole, schema-valid runbook. */
export function checkRunbook(runbook: Runbook, options: CheckOptions): RunbookProblem[] {
  const { file, locate = NOWHERE, rules = RUNBOOK_RULES } = options;
  return rules
    .flatMap((rule) => rule(runbook, options))
    .map(({ path, message }) => ({ file, ...locate(path), path: formatPath(path), message }));
}
