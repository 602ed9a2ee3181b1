import { Router } from 'express';
import type { Response } from 'express';
import { z } from 'zod';
import { IncidentIdSchema } from '../../domain/incident';
import type { IncidentRecord } from '../../domain/incident';
import type { TimelineEvent } from '../../domain/timeline';
import type { Logger } from '../../logger';
import type { TokenService } from '../../services/tokens';
import type { IncidentStore, TimelineStore } from '../../store/store';
import { requireAccess } from '../auth';
import { HttpError } from '../http-error';

const StreamQuerySchema = z
  .object({
    incident: IncidentIdSchema.optional(),
    after: z.coerce.number().int().min(0).optional(),
  })
  .strict();

const DEFAULT_INTERVAL_MS = 1000;
const KEEPALIVE_MS = 15_000;
const MAX_SUBSCRIBERS = 500;
const CATCH_UP_LIMIT = 1000;
const LIST_KEY = '*';

interface Subscriber {
  res: Response;
  /** The last timeline seq this client has. */
  lastSeq: number;
}

interface Watch {
  subscribers: Set<Subscriber>;
  /** What the store said last time: incident `updatedAt` + last seq, or the incidents' latest `updatedAt`. */
  head: string | null;
}

export interface TimelinePush {
  incident: IncidentRecord;
  events: TimelineEvent[];
}

function send(res: Response, event: string, data: unknown, id?: number): void {
  res.write(`${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

/**
 * Live updates for the page, without assuming this process runs the workflows: one timer per process polls
 * the read model for each watched incident (its row's `updatedAt` and last timeline seq: two index lookups)
 * and for the incident list (the latest `updatedAt`), and pushes what changed to every connection watching it.
 * The cost is per watched incident per second, not per connection.
 */
export class StreamHub {
  private readonly watches = new Map<string, Watch>();
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private lastKeepalive = Date.now();
  private count = 0;

  constructor(private readonly opts: { store: IncidentStore & TimelineStore; logger: Logger; intervalMs?: number }) {}

  get subscribers(): number {
    return this.count;
  }

  /** Starts pushing to `res`; `key` is an incident id or `*` for the list. Returns the unsubscribe function. */
  async subscribe(key: string, res: Response, lastSeq: number): Promise<() => void> {
    const sub: Subscriber = { res, lastSeq };
    let watch = this.watches.get(key);
    if (!watch) {
      watch = { subscribers: new Set(), head: await this.headOf(key) };
      this.watches.set(key, watch);
    }
    watch.subscribers.add(sub);
    this.count += 1;
    this.start();
    // Whatever was written between the page's load and this connection.
    if (key !== LIST_KEY) await this.pushTimeline(key, [sub]);
    return () => {
      if (!watch.subscribers.delete(sub)) return;
      this.count -= 1;
      if (watch.subscribers.size === 0 && this.watches.get(key) === watch) this.watches.delete(key);
      if (this.watches.size === 0) this.stop();
    };
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.opts.intervalMs ?? DEFAULT_INTERVAL_MS);
    this.timer.unref();
  }

  private async headOf(key: string): Promise<string | null> {
    if (key === LIST_KEY) return this.opts.store.incidentsHead();
    const head = await this.opts.store.timelineHead(key);
    return head ? `${head.updatedAt}#${head.maxSeq}` : null;
  }

  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const keepalive = Date.now() - this.lastKeepalive >= KEEPALIVE_MS;
      if (keepalive) this.lastKeepalive = Date.now();
      for (const [key, watch] of [...this.watches]) {
        const head = await this.headOf(key);
        if (head !== watch.head) {
          watch.head = head;
          if (key === LIST_KEY) {
            for (const sub of watch.subscribers) send(sub.res, 'incidents', { updatedAt: head });
          } else {
            await this.pushTimeline(key, [...watch.subscribers], true);
          }
        } else if (keepalive) {
          for (const sub of watch.subscribers) sub.res.write(': keepalive\n\n');
        }
      }
    } catch (err) {
      this.opts.logger.warn({ err: (err as Error).message }, 'live update poll failed');
    } finally {
      this.ticking = false;
    }
  }

  /** Sends each subscriber the events after its own last seq (one read for all of them). */
  private async pushTimeline(incidentId: string, subs: Subscriber[], always = false): Promise<void> {
    if (subs.length === 0) return;
    const from = Math.min(...subs.map((s) => s.lastSeq));
    const [incident, events] = await Promise.all([
      this.opts.store.getIncident(incidentId),
      this.opts.store.listTimeline(incidentId, { afterSeq: from, limit: CATCH_UP_LIMIT }),
    ]);
    if (!incident) return;
    for (const sub of subs) {
      const mine = events.filter((e) => e.seq > sub.lastSeq);
      if (!mine.length && !always) continue;
      if (mine.length) sub.lastSeq = mine[mine.length - 1]!.seq;
      send(sub.res, 'timeline', { incident, events: mine } satisfies TimelinePush, sub.lastSeq);
    }
  }
}

/**
 * GET /stream?incident=INC-1[&after=<seq>]: server-sent `timeline` events ({ incident, events }) whenever the
 * incident changes; without `incident`, `incidents` events when any incident changed. EventSource reconnects
 * with Last-Event-ID (the last seq), which wins over `after`.
 */
export function streamRoutes(deps: { tokens: TokenService; store: IncidentStore & TimelineStore; hub: StreamHub }): Router {
  const r = Router();
  r.get('/', requireAccess(deps.tokens, 'incident.read'), async (req, res) => {
    const q = StreamQuerySchema.parse(req.query);
    const lastEventId = Number(req.get('last-event-id'));
    const after = Number.isInteger(lastEventId) && lastEventId >= 0 && req.get('last-event-id') ? lastEventId : (q.after ?? 0);
    if (q.incident && !(await deps.store.getIncident(q.incident))) throw new HttpError(404, 'not_found', `no incident ${q.incident}`);
    if (deps.hub.subscribers >= MAX_SUBSCRIBERS) {
      throw new HttpError(429, 'too_many_streams', 'too many live connections to this server; retry shortly', undefined, {
        'Retry-After': '10',
      });
    }
    res.status(200).set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    res.write('retry: 3000\n\n');
    send(res, 'ready', { incident: q.incident ?? null, after });
    const unsubscribe = await deps.hub.subscribe(q.incident ?? '*', res, after);
    // The response, not the request: a request "closes" as soon as its (empty) body has been read.
    res.on('close', unsubscribe);
    if (res.destroyed) unsubscribe();
  });
  return r;
}
