// What the incident workflow carries across continue-as-new: plain JSON only.
import type { IncidentInfo, IncidentPhase, IncidentStatus } from '../src/domain/incident';
import type { Actor } from '../src/domain/roles';
import type { RunbookSnapshot } from '../src/domain/runbook';
import type { Severity } from '../src/domain/severity';
import type { DecisionRecord, ReceivedEvent, TaskRecord } from './messages';
import type { Review, StepOutput } from './step-context';

export interface IncidentWorkflowInput {
  incident: IncidentInfo;
  snapshot: RunbookSnapshot;
  /** Present only when continuing as new. */
  carried?: IncidentState;
}

export interface IncidentState {
  seq: number;
  status: IncidentStatus;
  phase: IncidentPhase;
  severity: Severity;
  phaseIndex: number;
  stepIndex: number;
  aborted: boolean;
  decisions: Record<string, DecisionRecord>;
  stepOutputs: Record<string, StepOutput>;
  acknowledged: { by: Actor; at: string } | null;
  resolved: { by: Actor; at: string; summary: string | null } | null;
  escalationLevel: number;
  // Added with the full runbook language; optional so state carried by older runs still loads.
  tasks?: Record<string, TaskRecord>;
  events?: Record<string, ReceivedEvent>;
  /** Compensations of completed steps, in completion order; run in reverse on a compensating failure. */
  compensations?: CompensationEntry[];
  review?: Review | null;
  /** Alert episodes by alertEpisodeKey (src/domain/alert-episode). */
  alerts?: Record<string, AlertState>;
  /**
   * Inbox batches applied lately (their `batch` ids), newest last: a forwarder that died between signalling and
   * marking its rows forwarded leaves them to another replica, which sends the same batch again.
   */
  alertBatches?: number[];
}

export interface CompensationEntry {
  stepId: string;
  name: string;
  done: boolean;
}

export interface AlertState {
  fingerprint: string;
  startsAt: string;
  status: 'firing' | 'resolved';
  endsAt: string | null;
  summary: string;
  labels: Record<string, string>;
  source: string;
  count: number;
  firstSeen: string;
  lastSeen: string;
}

/** The state with every field that older runs may lack filled in. */
export type LoadedState = IncidentState & Required<Pick<IncidentState, 'tasks' | 'events' | 'compensations' | 'alerts'>>;

/** A fresh state for a new incident, or the carried one of a run that continued as new. */
export function loadState(input: IncidentWorkflowInput): LoadedState {
  const state: IncidentState = input.carried ?? {
    seq: 0,
    status: 'open',
    phase: 'detect',
    severity: input.incident.severity,
    phaseIndex: 0,
    stepIndex: 0,
    aborted: false,
    decisions: {},
    stepOutputs: {},
    acknowledged: null,
    resolved: null,
    escalationLevel: 0,
  };
  state.tasks ??= {};
  state.events ??= {};
  state.compensations ??= [];
  state.alerts ??= {};
  return state as LoadedState;
}

export function alertCounts(alerts: Record<string, AlertState>): { firing: number; resolved: number; received: number } {
  let firing = 0;
  let received = 0;
  const all = Object.values(alerts);
  for (const a of all) {
    if (a.status === 'firing') firing += 1;
    received += a.count;
  }
  return { firing, resolved: all.length - firing, received };
}
