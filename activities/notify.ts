import { drillMark } from '../src/domain/drill';
import type { IncidentInfo } from '../src/domain/incident';
import type { NotifyStep } from '../src/domain/runbook';
import type { OutboxStore } from '../src/store/store';
import type { ChannelKind, PageChannel } from './channels/types';
import { renderTemplate } from './template';

export interface NotifyRequest {
  /** Idempotency key: `<incidentId>:<stepId>`; the same request sent twice lands once. */
  id: string;
  incident: IncidentInfo;
  stepId: string;
  via: NotifyStep['via'];
  to: string | null;
  message: string;
  decisions: Record<string, string>;
}

export interface NotifyResult {
  /** Where it went: the configured channel, or the outbox when that channel is not configured. */
  deliveredVia: NotifyStep['via'];
  messageId: string;
  duplicate: boolean;
}

export function createNotifyActivities(deps: {
  store: OutboxStore;
  /** The same channels pages use; a notify step to one that is not configured lands in the outbox. */
  channels?: Partial<Record<ChannelKind, PageChannel>>;
  publicUrl?: string;
  now?: () => Date;
}) {
  const now = deps.now ?? (() => new Date());
  const publicUrl = (deps.publicUrl ?? 'http://localhost:3000').replace(/\/$/, '');
  return {
    async sendNotification(req: NotifyRequest): Promise<NotifyResult> {
      const drill = drillMark(req.incident.drill);
      const body =
        drill + renderTemplate(req.message, { incident: req.incident, decisions: req.decisions, params: req.incident.params ?? {} });
      const subject = `${drill}[${req.incident.severity}] ${req.incident.id}: ${req.incident.title}`;
      const channel = req.via === 'outbox' || !req.to ? undefined : deps.channels?.[req.via];
      if (channel && req.to) {
        // Channels add the drill mark themselves.
        const text = renderTemplate(req.message, { incident: req.incident, decisions: req.decisions, params: req.incident.params ?? {} });
        const delivery = await channel.send({
          idempotencyKey: req.id,
          to: req.to,
          subject: `[${req.incident.severity}] ${req.incident.id}: ${req.incident.title}`,
          text,
          incidentUrl: `${publicUrl}/incidents/${encodeURIComponent(req.incident.id)}`,
          drill: req.incident.drill,
        });
        return { deliveredVia: req.via, messageId: delivery.providerId ?? req.id, duplicate: false };
      }
      const isNew = await deps.store.enqueueOutbox({
        id: req.id,
        incidentId: req.incident.id,
        channel: req.via,
        to: req.to,
        subject,
        body,
        drill: req.incident.drill,
        createdAt: now().toISOString(),
      });
      return { deliveredVia: 'outbox', messageId: req.id, duplicate: !isNew };
    },
  };
}
