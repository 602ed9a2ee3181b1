import type { AuthThrottleStore } from '../store/store';

/** The doors a credential is guessed through; metric labels, so a fixed set. */
export const AUTH_DOORS = ['bearer', 'session', 'integration', 'slack'] as const;
export type AuthDoor = (typeof AUTH_DOORS)[number];

export interface AuthThrottlePolicy {
  /** Failures per client address and door in one window before that address is refused. */
  limit: number;
  windowMs: number;
}

export const DEFAULT_AUTH_THROTTLE: AuthThrottlePolicy = { limit: 20, windowMs: 5 * 60_000 };

/** Addresses tracked in memory at most; beyond, the oldest windows are forgotten locally (the store still counts). */
const MAX_TRACKED = 10_000;

interface Local {
  windowStart: number;
  /** Failures this process saw in the window. */
  seen: number;
  /** Failures not yet added to the store. */
  unsent: number;
  /** The window's total across replicas, as the store last answered. */
  shared: number;
  flushing?: Promise<void>;
}

/**
 * Slows guessing: after `limit` failed authentications from one client address through one door within a fixed
 * window, that address gets 429 with Retry-After at that door until the window ends. Other addresses, and the
 * same address at other doors (an Alertmanager behind the NAT a guesser also uses keeps delivering), are untouched.
 *
 * The check is in memory only, so valid traffic never waits on the database; failures are added to the store
 * (shared by replicas) and its total comes back into memory. A replica that has not yet seen an address's
 * failures lets one more through before the store's answer blocks it there too, so N replicas allow at most
 * limit + N - 1 guesses per window. Fixed windows allow up to twice the limit across a window boundary; the
 * point is making a 144-bit token unguessable and a short shared secret slow, not exact accounting.
 */
export function createAuthThrottle(deps: {
  store: AuthThrottleStore;
  policy?: AuthThrottlePolicy;
  now?: () => Date;
  onError?: (err: unknown) => void;
}) {
  const policy = deps.policy ?? DEFAULT_AUTH_THROTTLE;
  const now = deps.now ?? (() => new Date());
  const local = new Map<string, Local>();
  let lastPrune = 0;

  function windowOf(t: number): number {
    return t - (t % policy.windowMs);
  }

  function entry(key: string, t: number): Local {
    const start = windowOf(t);
    let e = local.get(key);
    if (!e || e.windowStart !== start) {
      if (e) local.delete(key);
      e = { windowStart: start, seen: 0, unsent: 0, shared: 0 };
      if (local.size >= MAX_TRACKED) local.delete(local.keys().next().value!);
      local.set(key, e);
    }
    return e;
  }

  async function flush(key: string, e: Local): Promise<void> {
    while (e.unsent > 0) {
      const n = e.unsent;
      e.unsent = 0;
      const total = await deps.store.addAuthFailures(key, new Date(e.windowStart).toISOString(), n);
      e.shared = Math.max(e.shared, total);
    }
  }

  async function prune(t: number): Promise<void> {
    if (t - lastPrune < policy.windowMs) return;
    lastPrune = t;
    await deps.store.pruneAuthFailures(new Date(windowOf(t) - policy.windowMs).toISOString());
  }

  return {
    policy,

    /** Seconds until `address` may try `door` again, or undefined when it may now. Never touches the store. */
    retryAfter(door: AuthDoor, address: string): number | undefined {
      const t = now().getTime();
      const e = local.get(`${door}|${address}`);
      if (!e || e.windowStart !== windowOf(t)) return undefined;
      if (Math.max(e.seen, e.shared) < policy.limit) return undefined;
      return Math.max(1, Math.ceil((e.windowStart + policy.windowMs - t) / 1000));
    },

    /**
     * Counts one failure. The local count rises at once (the next request from this address on this replica sees
     * it); the store is updated in the background, one write at a time per address, so a flood costs few writes.
     * Resolves when the store has it.
     */
    failed(door: AuthDoor, address: string): Promise<void> {
      const key = `${door}|${address}`;
      const t = now().getTime();
      const e = entry(key, t);
      e.seen++;
      e.unsent++;
      if (!e.flushing) {
        e.flushing = (async () => {
          try {
            await flush(key, e);
            await prune(t);
          } catch (err) {
            // The local count still holds on this replica; the store catches up with the next failure.
            deps.onError?.(err);
          } finally {
            e.flushing = undefined;
          }
        })();
      }
      return e.flushing;
    },
  };
}

export type AuthThrottle = ReturnType<typeof createAuthThrottle>;
