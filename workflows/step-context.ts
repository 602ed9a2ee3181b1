// What step handlers (steps.ts, escalation.ts) see of the incident workflow. Types and one constant only, so
// both can import it without importing each other.
import type { IncidentInfo } from '../src/domain/incident';
import type { Actor } from '../src/domain/roles';
import type { TimelineEventType } from '../src/domain/timeline';
import type { DecisionRecord, OpenDecision, OpenTask, ReceivedEvent, TaskRecord } from './messages';

/** The runbook acts under this actor: default decisions, automatic resolution, step events. */
export const RUNBOOK_ACTOR: Actor = { id: 'runbook', name: 'Runbook', role: 'admin' };

/** The post-mortem review the retrospective waits for; the completeReview update fills `done`. */
export interface Review {
  stepId: string;
  dueAt: string;
  done: { by: Actor; at: string } | null;
}

/** What a step handler may touch of the incident workflow. */
export interface StepContext {
  incident: () => IncidentInfo;
  decisions: Record<string, DecisionRecord>;
  openDecisions: Record<string, OpenDecision>;
  tasks: Record<string, TaskRecord>;
  openTasks: Record<string, OpenTask>;
  events: Record<string, ReceivedEvent>;
  openAlertCount: () => number;
  resolvedAt: () => string | null;
  review: Review | null;
  setReview(review: Review): void;
  acknowledged(): boolean;
  /** Runs `fn` when the incident is acknowledged (at once if it already is). */
  onAcknowledge(fn: () => void): void;
  /** How many times someone pressed escalate; a page step moves to its next level when this grows. */
  manualEscalations(): number;
  /** The runbook's `escalation` policy. */
  defaultPolicy: string | undefined;
  /** Work that outlives its step (a page step with `wait: none`); the workflow waits for it before closing. */
  background(work: Promise<void>): void;
  emit(type: TimelineEventType, summary: string, data?: Record<string, unknown>, actor?: Actor): void;
  flush(): Promise<void>;
}

/** Every output has `result`, which `when: { step, is }` compares unless it names another field. */
export type StepOutput = Record<string, string | number | boolean | null>;
