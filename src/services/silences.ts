import { randomUUID } from 'node:crypto';
import { CreateSilenceSchema, silenceWindow } from '../ingest/silences';
import type { AuditStore, SilenceRecord, SilenceStore } from '../store/store';
import { createAuditLog } from './audit';
import type { ActionContext } from './audit';
import { ServiceError, notFound } from './errors';

export interface SilenceServiceDeps {
  store: AuditStore & SilenceStore;
  /** Refreshed after each change, so this process's sink applies it at once. */
  silenceCache?: { refresh(): Promise<void> };
  now?: () => Date;
}

export type SilenceView = SilenceRecord & { state: 'pending' | 'active' | 'expired' };

/** A silence with its state at `now`: pending (not started), active, or expired. */
function view(silence: SilenceRecord, now: Date): SilenceView {
  const at = now.toISOString();
  const state = silence.endsAt <= at ? 'expired' : silence.startsAt > at ? 'pending' : 'active';
  return { ...silence, state };
}

/**
 * Maintenance windows: alerts matching an active silence are recorded but start nothing; which alerts match is
 * src/ingest/silences.ts's business. Every change is audited.
 */
export function createSilenceService(deps: SilenceServiceDeps) {
  const now = deps.now ?? (() => new Date());
  const audit = createAuditLog(deps);

  return {
    async create(given: unknown, ctx: ActionContext): Promise<SilenceView> {
      const input = CreateSilenceSchema.parse(given);
      const at = now();
      const window = silenceWindow(input, at);
      if ('error' in window) throw new ServiceError('invalid', `${window.error.path}: ${window.error.message}`, { issues: [window.error] });
      const silence: SilenceRecord = {
        id: randomUUID(),
        matchers: input.matchers,
        startsAt: window.startsAt,
        endsAt: window.endsAt,
        comment: input.comment,
        createdBy: { id: ctx.actor.id, name: ctx.actor.name },
        createdAt: at.toISOString(),
        updatedAt: at.toISOString(),
      };
      await deps.store.insertSilence(silence);
      await deps.silenceCache?.refresh();
      await audit.record(ctx, {
        action: 'silence.create',
        details: {
          silenceId: silence.id,
          matchers: silence.matchers,
          startsAt: silence.startsAt,
          endsAt: silence.endsAt,
          comment: silence.comment,
        },
      });
      return view(silence, at);
    },

    /** `active`: in force now; `all`: every silence, latest end first. */
    async list(filter: { state: 'active' | 'all'; limit: number }): Promise<SilenceView[]> {
      const at = now();
      const silences = await deps.store.listSilences({
        activeAt: filter.state === 'active' ? at.toISOString() : undefined,
        limit: filter.limit,
      });
      return silences.map((s) => view(s, at));
    },

    async get(id: string): Promise<SilenceView> {
      const silence = await deps.store.getSilence(id);
      if (!silence) throw notFound(`no silence ${id}`);
      return view(silence, now());
    },

    /** Expires the silence (kept for the record); expiring an expired one changes nothing and is not audited. */
    async expire(id: string, ctx: ActionContext): Promise<{ silence: SilenceView; changed: boolean }> {
      const at = now();
      const before = await deps.store.getSilence(id);
      if (!before) throw notFound(`no silence ${id}`);
      const silence = (await deps.store.expireSilence(id, at.toISOString())) ?? before;
      await deps.silenceCache?.refresh();
      const changed = before.endsAt > at.toISOString();
      if (changed)
        await audit.record(ctx, {
          action: 'silence.expire',
          details: { silenceId: id, matchers: silence.matchers, endedAt: silence.endsAt },
        });
      return { silence: view(silence, at), changed };
    },
  };
}

export type SilenceService = ReturnType<typeof createSilenceService>;
