// Message definitions shared by the workflow and its callers (API, Slack, CLI). No workflow logic here.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { AlertUpdate } from '../src/domain/alert-episode';
import type { IncidentPhase, IncidentStatus } from '../src/domain/incident';
import type {
  AcknowledgeArgs,
  AddNoteArgs,
  ChangeSeverityArgs,
  CompleteReviewArgs,
  CompleteTaskArgs,
  DecideArgs,
  EscalateArgs,
  PostEventArgs,
  ResolveArgs,
} from '../src/domain/incident-updates';
import type { Actor } from '../src/domain/roles';
import type { Severity } from '../src/domain/severity';

export type { AlertUpdate } from '../src/domain/alert-episode';
export type {
  AcknowledgeArgs,
  AddNoteArgs,
  ChangeSeverityArgs,
  CompleteReviewArgs,
  CompleteTaskArgs,
  DecideArgs,
  EscalateArgs,
  PostEventArgs,
  ResolveArgs,
} from '../src/domain/incident-updates';

export interface OpenDecision {
  stepId: string;
  prompt: string;
  options: string[];
  default: string;
  approver: Actor['role'];
  /** When the default is taken (ISO). */
  deadline: string;
}

export interface DecisionRecord {
  option: string;
  by: Actor;
  at: string;
  timedOut: boolean;
}

export interface OpenTask {
  stepId: string;
  /** Incident role that owns it (from the runbook's `roles`). */
  assignee: string;
  description: string;
  deadline: string | null;
}

export interface TaskRecord {
  by: Actor;
  at: string;
  note: string | null;
}

export interface ReceivedEvent {
  by: Actor;
  at: string;
  data: Record<string, unknown>;
}

/** What the status query and every update answer with. */
export interface IncidentView {
  id: string;
  status: IncidentStatus;
  phase: IncidentPhase;
  severity: Severity;
  currentStep: { id: string; kind: string } | null;
  openDecisions: OpenDecision[];
  decisions: Record<string, DecisionRecord>;
  openTasks: OpenTask[];
  /** Set while the retrospective waits for the post-mortem review. */
  awaitingReview: { stepId: string; dueAt: string } | null;
  drill: boolean;
  acknowledged: { by: Actor; at: string } | null;
  resolved: { by: Actor; at: string; summary: string | null } | null;
  escalationLevel: number;
  alerts: { firing: number; resolved: number; received: number };
  runbook: { id: string; version: string };
}

export const acknowledgeUpdate = defineUpdate<IncidentView, [AcknowledgeArgs]>('acknowledge');
export const decideUpdate = defineUpdate<IncidentView, [DecideArgs]>('decide');
export const escalateUpdate = defineUpdate<IncidentView, [EscalateArgs]>('escalate');
export const resolveUpdate = defineUpdate<IncidentView, [ResolveArgs]>('resolve');
export const addNoteUpdate = defineUpdate<IncidentView, [AddNoteArgs]>('addNote');
export const changeSeverityUpdate = defineUpdate<IncidentView, [ChangeSeverityArgs]>('changeSeverity');
export const completeTaskUpdate = defineUpdate<IncidentView, [CompleteTaskArgs]>('completeTask');
/** Marks the post-mortem review done: the incident then closes. */
export const completeReviewUpdate = defineUpdate<IncidentView, [CompleteReviewArgs]>('completeReview');
export const postEventUpdate = defineUpdate<IncidentView, [PostEventArgs]>('postEvent');

export interface AlertBatch {
  alerts: AlertUpdate[];
  /**
   * The inbox's id for this batch (its first row's id), the same when a batch is sent again after its forwarder
   * died before recording it; a batch already applied is ignored. Absent in batches from older versions.
   */
  batch?: number;
}

/** Alerts for this incident, coalesced by the receivers (a few signals per second at most, whatever the storm). */
export const alertsSignal = defineSignal<[AlertBatch]>('alerts');
export const statusQuery = defineQuery<IncidentView>('status');
