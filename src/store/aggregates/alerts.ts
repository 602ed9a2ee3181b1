/** Alerts: which incident each alert group feeds, the inbox of accepted alerts until forwarded, the start arguments of incidents opened by alerts, and each episode's last known state. */
export interface AlertStore {
  /** The incident an alert group currently feeds, if any. */
  getAlertGroup(integration: string, groupKey: string): Promise<{ incidentId: string; updatedAt: string } | undefined>;
  /**
   * Points the group at `incidentId` only if it still points at `expected` (undefined = no row yet); returns
   * whether it did. Two processes racing on a new group agree on one incident.
   */
  swapAlertGroup(integration: string, groupKey: string, expected: string | undefined, incidentId: string, at: string): Promise<boolean>;
  /** Forgets the group's incident if it is still `incidentId` (its workflow could not be started). */
  deleteAlertGroup(integration: string, groupKey: string, incidentId: string): Promise<void>;
  /** Accepts alerts into the inbox in one transaction (durable once this resolves). */
  enqueueAlerts(rows: { incidentId: string; alert: unknown; receivedAt: string }[]): Promise<void>;
  /** Inbox rows not yet forwarded, oldest first. */
  pendingAlerts(incidentId: string, limit: number): Promise<InboxRow[]>;
  /** Incidents with alerts waiting in the inbox (to resume forwarding after a restart or another replica's death). */
  incidentsWithPendingAlerts(): Promise<string[]>;
  /**
   * The next batch to forward, for the holder of the incident's forwarding lease (LeaseStore): a batch taken earlier but never marked forwarded (its
   * forwarder died; the workflow may have it already, so it goes again unchanged, with the same id), else up to
   * `limit` of the oldest pending rows, taken as a new batch whose id is its first row's id. Undefined when
   * nothing is pending.
   */
  takeAlertBatch(incidentId: string, limit: number): Promise<{ batch: number; rows: InboxRow[] } | undefined>;
  markAlertsForwarded(ids: number[], at: string): Promise<void>;
  /** The start arguments of an incident opened by alerts, kept until its workflow exists. */
  saveIncidentStart(incidentId: string, args: unknown): Promise<void>;
  getIncidentStart(incidentId: string): Promise<{ args: unknown; startedAt: string | null } | undefined>;
  markIncidentStarted(incidentId: string, at: string): Promise<void>;
  /** Upserts the last known state of each alert episode; an older write never overwrites a newer one. */
  upsertAlerts(alerts: AlertRecord[]): Promise<void>;
  listAlerts(incidentId: string): Promise<AlertRecord[]>;
}

export interface AlertRecord {
  incidentId: string;
  fingerprint: string;
  startsAt: string;
  status: 'firing' | 'resolved';
  endsAt: string | null;
  summary: string;
  labels: Record<string, string>;
  source: string;
  /** Deliveries of this episode seen so far. */
  received: number;
  firstSeen: string;
  lastSeen: string;
}

/** An accepted alert in the inbox. */
export interface InboxRow {
  id: number;
  alert: unknown;
  receivedAt: string;
}
