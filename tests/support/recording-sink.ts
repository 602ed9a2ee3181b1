import type { AlertEvent, GroupAction } from '../../src/domain/alert';
import type { AcceptResult, AlertSink } from '../../src/ingest/sink';

/**
 * An in-memory AlertSink that records what receivers hand it: the test double for the sink boundary (tests of
 * receivers need no Temporal). Incidents are named `<integration>/<groupKey prefix>`; `failWith` makes every call
 * reject (e.g. with ServiceError('unavailable') to test 503s); `silence` marks alerts as silenced.
 */
export class RecordingAlertSink implements AlertSink {
  readonly accepted: { alerts: AlertEvent[]; requestId: string }[] = [];
  readonly actions: { action: GroupAction; requestId: string }[] = [];
  failWith: Error | undefined;
  silence: (alert: AlertEvent) => boolean = () => false;
  /** Group keys (integration/groupKey) a trigger opened: follow-ups on others find no incident. */
  private readonly groups = new Set<string>();

  static incidentOf(integration: string, groupKey: string): string {
    return `${integration}/${groupKey.slice(0, 12)}`;
  }

  async accept(alerts: AlertEvent[], meta: { requestId: string }): Promise<AcceptResult> {
    if (this.failWith) throw this.failWith;
    this.accepted.push({ alerts: structuredClone(alerts), requestId: meta.requestId });
    const incidents = new Set<string>();
    let silenced = 0;
    for (const alert of alerts) {
      if (this.silence(alert)) {
        silenced++;
        continue;
      }
      this.groups.add(`${alert.integration}/${alert.groupKey}`);
      incidents.add(RecordingAlertSink.incidentOf(alert.integration, alert.groupKey));
    }
    return { incidents: [...incidents], silenced };
  }

  async applyGroupAction(action: GroupAction, meta: { requestId: string }): Promise<{ incidentId: string | null }> {
    if (this.failWith) throw this.failWith;
    this.actions.push({ action: structuredClone(action), requestId: meta.requestId });
    const known = this.groups.has(`${action.integration}/${action.groupKey}`);
    return { incidentId: known ? RecordingAlertSink.incidentOf(action.integration, action.groupKey) : null };
  }

  /** Every alert accepted so far, in order. */
  allAlerts(): AlertEvent[] {
    return this.accepted.flatMap((a) => a.alerts);
  }

  clear(): void {
    this.accepted.length = 0;
    this.actions.length = 0;
    this.groups.clear();
    this.failWith = undefined;
    this.silence = () => false;
  }
}
