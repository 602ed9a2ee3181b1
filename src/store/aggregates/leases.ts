/**
 * Leases: one owner at a time for work that any replica may do but only one should do at once (forwarding an
 * incident's alert inbox, deciding a contact's page throttle). A lease lapses at its expiry, so an owner that dies
 * holds it that long at most. Names say what they guard (`alert-forwarding:<incident>`, `page-contact:<channel>:<to>`).
 */
export interface LeaseStore {
  /** Takes or extends the lease; false while another owner holds an unexpired one. Atomic across processes. */
  claimLease(name: string, owner: string, now: string, until: string): Promise<boolean>;
  /** Gives the lease up if `owner` holds it. */
  releaseLease(name: string, owner: string): Promise<void>;
}
