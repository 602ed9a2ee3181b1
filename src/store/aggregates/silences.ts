/** Maintenance windows (silences). */
export interface SilenceStore {
  insertSilence(silence: SilenceRecord): Promise<void>;
  getSilence(id: string): Promise<SilenceRecord | undefined>;
  /**
   * Silences, latest end first. With `activeAt` only those in force then (startsAt ≤ at < endsAt); `limit`
   * defaults to 1000.
   */
  listSilences(filter: { activeAt?: string; limit?: number }): Promise<SilenceRecord[]>;
  /**
   * Ends a silence at `at` (a pending one starts and ends there), keeping it for the record; answers the
   * updated silence, or undefined when there is none with this id. Expiring an expired silence changes nothing.
   */
  expireSilence(id: string, at: string): Promise<SilenceRecord | undefined>;
}

/** A label matcher of a silence, as in Alertmanager: equality, inequality, regex and negated regex (anchored). */
export interface SilenceMatcher {
  name: string;
  value: string;
  op: '=' | '!=' | '=~' | '!~';
}

/** A maintenance window: alerts whose labels match every matcher between startsAt and endsAt are silenced. */
export interface SilenceRecord {
  id: string;
  matchers: SilenceMatcher[];
  startsAt: string;
  endsAt: string;
  comment: string;
  createdBy: { id: string; name: string };
  createdAt: string;
  updatedAt: string;
}
