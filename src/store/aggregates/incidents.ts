import type { IncidentPatch, IncidentRecord, IncidentStatus } from '../../domain/incident';
import type { Severity } from '../../domain/severity';

/** Incidents: the `INC-<n>` sequence, the rows the API lists and searches, and the head the live list polls. */
export interface IncidentStore {
  /** Next number of the `INC-<n>` sequence; atomic across processes. */
  allocateIncidentNumber(): Promise<number>;
  insertIncident(incident: IncidentRecord): Promise<void>;
  /** Applies a patch; a patch older than the stored row's `updatedAt` is ignored (retries arrive late). */
  updateIncident(id: string, patch: IncidentPatch, at: string): Promise<void>;
  getIncident(id: string): Promise<IncidentRecord | undefined>;
  /** Only to take back a row whose workflow could not be started. */
  deleteIncident(id: string): Promise<void>;
  listIncidents(filter: IncidentFilter): Promise<Page<IncidentRecord>>;
  /** The latest `updatedAt` of any incident, null when there are none: when it moves, lists may have changed. */
  incidentsHead(): Promise<string | null>;
  /** `listIncidents` narrowed to titles containing `titleContains` (case-insensitive for ASCII letters). */
  searchIncidents(filter: IncidentFilter & { titleContains?: string }): Promise<Page<IncidentRecord>>;
}

export interface IncidentFilter {
  status?: IncidentStatus;
  severity?: Severity;
  service?: string;
  runbook?: string;
  /** Declared at or after (ISO). */
  from?: string;
  /** Declared before (ISO). */
  to?: string;
  /** Opaque cursor from a previous page. */
  cursor?: string;
  limit: number;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
