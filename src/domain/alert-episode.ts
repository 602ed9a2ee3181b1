// Import-free on purpose: the workflow bundle imports this module, and so does the ingest path, so the two
// sides can never disagree on what an alert episode is or how repeated deliveries of it combine.

/** One alert's state in a batch; repeated deliveries of the same state are folded into `count`. */
export interface AlertUpdate {
  fingerprint: string;
  startsAt: string;
  status: 'firing' | 'resolved';
  endsAt: string | null;
  summary: string;
  labels: Record<string, string>;
  source: string;
  count: number;
  receivedAt: string;
}

/**
 * An episode is one firing of one alert: the same fingerprint firing again later (a new `startsAt`) is a new
 * episode, while re-deliveries of the same firing are the same episode.
 */
export function alertEpisodeKey(alert: { fingerprint: string; startsAt: string }): string {
  return `${alert.fingerprint}@${alert.startsAt}`;
}

/** Keeps one update per alert episode: the latest state (resolved wins), with deliveries counted. */
export function foldAlertUpdates(updates: readonly AlertUpdate[]): AlertUpdate[] {
  const byEpisode = new Map<string, AlertUpdate>();
  for (const u of updates) {
    const key = alertEpisodeKey(u);
    const known = byEpisode.get(key);
    if (!known) {
      byEpisode.set(key, { ...u });
      continue;
    }
    known.count += u.count;
    if (u.receivedAt > known.receivedAt) known.receivedAt = u.receivedAt;
    if (u.status === 'resolved') {
      known.status = 'resolved';
      known.endsAt = u.endsAt;
    }
  }
  return [...byEpisode.values()];
}
