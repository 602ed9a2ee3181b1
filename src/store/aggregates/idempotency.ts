/** Idempotency keys of API requests: one winner per key across processes. */
export interface IdempotencyStore {
  /**
   * Records `value` under (scope, key) unless something is there already; returns the value that was there
   * first (undefined when this call claimed the key). Atomic, so two racing requests agree on one winner.
   */
  claimIdempotencyKey(scope: string, key: string, value: string, at: string): Promise<string | undefined>;
  /** Frees a key whose request failed, so a retry of it starts afresh. */
  releaseIdempotencyKey(scope: string, key: string): Promise<void>;
}
