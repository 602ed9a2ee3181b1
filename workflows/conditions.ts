// Evaluates a step's `when` over earlier step outputs and the incident. Pure and deterministic.
import type { IncidentInfo } from '../src/domain/incident';
import type { Condition, ConditionValue } from '../src/domain/runbook';
import type { StepOutput } from './step-context';

export interface ConditionScope {
  incident: IncidentInfo;
  outputs: Record<string, StepOutput>;
}

function compare(actual: unknown, c: { is?: ConditionValue; isNot?: ConditionValue; in?: ConditionValue[] }): boolean {
  if (c.is !== undefined) return actual === c.is;
  if (c.isNot !== undefined) return actual !== c.isNot;
  if (c.in !== undefined) return c.in.some((v) => v === actual);
  return false;
}

export function evaluateCondition(condition: Condition, scope: ConditionScope): boolean {
  if ('all' in condition) return condition.all.every((c) => evaluateCondition(c, scope));
  if ('any' in condition) return condition.any.some((c) => evaluateCondition(c, scope));
  if ('not' in condition) return !evaluateCondition(condition.not, scope);
  if ('step' in condition) {
    // A step that has not run (skipped by its own condition, or not reached) has no output: nothing matches
    // except isNot.
    const output = scope.outputs[condition.step];
    return compare(output ? output[condition.field ?? 'result'] : undefined, condition);
  }
  const incident = scope.incident;
  const value = condition.incident === 'trigger' ? incident.trigger.kind : incident[condition.incident];
  return compare(value, condition);
}
