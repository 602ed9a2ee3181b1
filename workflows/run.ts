// One run of the incident workflow: the carried state plus what lives only in this run's memory (open
// decisions and tasks, the current step and its cancellation scope, background paging).
import type { CancellationScope } from '@temporalio/workflow';
import type { IncidentInfo } from '../src/domain/incident';
import type { Actor } from '../src/domain/roles';
import type { Runbook, RunbookSnapshot } from '../src/domain/runbook';
import type { IncidentView, OpenDecision, OpenTask } from './messages';
import { alertCounts, loadState } from './state';
import type { IncidentWorkflowInput, LoadedState } from './state';
import { createTimeline, nowIso } from './timeline';
import type { Timeline } from './timeline';

export class IncidentRun {
  readonly incidentId: string;
  readonly snapshot: RunbookSnapshot;
  readonly runbook: Runbook;
  readonly state: LoadedState;
  readonly timeline: Timeline;
  readonly openDecisions: Record<string, OpenDecision> = {};
  readonly openTasks: Record<string, OpenTask> = {};
  readonly backgroundWork = new Set<Promise<void>>();
  /** Withdraw pages scheduled but not yet picked up by a worker; called once on acknowledgement. */
  ackListeners: (() => void)[] = [];
  currentStep: { id: string; kind: string } | null = null;
  stepScope: CancellationScope | undefined;

  constructor(readonly input: IncidentWorkflowInput) {
    this.incidentId = input.incident.id;
    this.snapshot = input.snapshot;
    this.runbook = input.snapshot.runbook;
    this.state = loadState(input);
    this.timeline = createTimeline(this.incidentId, this.state);
  }

  /** The incident as it is now: the declared facts with the current severity. */
  incident(): IncidentInfo {
    return { ...this.input.incident, severity: this.state.severity };
  }

  view(): IncidentView {
    const { state } = this;
    return {
      id: this.incidentId,
      status: state.status,
      phase: state.phase,
      severity: state.severity,
      currentStep: this.currentStep,
      openDecisions: Object.values(this.openDecisions),
      decisions: state.decisions,
      openTasks: Object.values(this.openTasks),
      awaitingReview: state.review && !state.review.done ? { stepId: state.review.stepId, dueAt: state.review.dueAt } : null,
      drill: this.input.incident.drill,
      acknowledged: state.acknowledged,
      resolved: state.resolved,
      escalationLevel: state.escalationLevel,
      alerts: alertCounts(state.alerts),
      runbook: { id: this.runbook.id, version: this.snapshot.version },
    };
  }

  resolveNow(by: Actor, summary: string | null): void {
    const at = nowIso();
    this.state.resolved = { by, at, summary };
    this.state.status = 'resolved';
    this.timeline.patch({ status: 'resolved', resolvedAt: at });
    this.timeline.emit('incident.resolved', summary ? `Resolved: ${summary}` : 'Resolved', { summary }, by);
    // The current step is moot once resolved; the retrospective still runs in full.
    if (this.state.phase !== 'retrospective') this.stepScope?.cancel();
  }
}
