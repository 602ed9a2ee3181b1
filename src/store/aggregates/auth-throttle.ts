/**
 * Failed authentication counted per key (door and client address) in fixed time windows, shared by every API
 * replica so that spreading guesses over replicas gains nothing.
 */
export interface AuthThrottleStore {
  /** Adds `failures` to the window of `key` that starts at `windowStart` and returns the window's new total. */
  addAuthFailures(key: string, windowStart: string, failures: number): Promise<number>;
  /** Drops windows that started before `before`; returns how many. */
  pruneAuthFailures(before: string): Promise<number>;
}
