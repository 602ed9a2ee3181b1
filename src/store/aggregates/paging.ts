/** Page attempts and their outcomes, and the per-contact throttle's view of them. */
export interface PagingStore {
  /** Records a page attempt's outcome; the key is the page's idempotency key, so a retry updates its row. */
  recordPage(page: PageRecord): Promise<void>;
  listPages(incidentId: string): Promise<PageRecord[]>;
  /**
   * When pages to this recipient were sent, or are being sent, since `since` (for per-contact throttling), oldest
   * first; `exceptKey` leaves out the page asking (its own earlier attempt is no reason to wait).
   */
  recentPages(channel: string, recipient: string, since: string, exceptKey?: string): Promise<string[]>;
}

export interface PageRecord {
  key: string;
  incidentId: string;
  stepId: string;
  round: number;
  level: number;
  personId: string;
  channel: 'email' | 'slack' | 'webhook' | 'outbox';
  recipient: string;
  /** `sending` is set just before an email goes out and replaced by the outcome; left alone, the attempt died. */
  status: 'sending' | 'sent' | 'failed' | 'throttled' | 'withdrawn';
  attempts: number;
  error: string | null;
  providerId: string | null;
  updatedAt: string;
}
