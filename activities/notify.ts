import type { IncidentInfo } from '../src/domain/incident';
import type { NotifyStep } from '../src/domain/runbook';
import type { Store } from '../src/store/store';
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

/** A configured delivery channel (Slack, email, webhook). Added by later work; absent ones fall back to the outbox. */
export interface NotificationChannel {
  send(message: { id: string; to: string | null; subject: string; body: string }): Promise<void>;
}

export function createNotifyActivities(deps: {
  store: Store;
  channels?: Partial<Record<Exclude<NotifyStep['via'], 'outbox'>, NotificationChannel>>;
  now?: () => Date;
}) {
  const now = deps.now ?? (() => new Date());
  return {
    async sendNotification(req: NotifyRequest): Promise<NotifyResult> {
      const drillMark = req.incident.drill ? '[DRILL] ' : '';
      const body = drillMark + renderTemplate(req.message, { incident: req.incident, decisions: req.decisions, params: req.incident.params ?? {} });
      const subject = `${drillMark}[${req.incident.severity}] ${req.incident.id}: ${req.incident.title}`;
      const channel = req.via === 'outbox' ? undefined : deps.channels?.[req.via];
      if (channel) {
        await channel.send({ id: req.id, to: req.to, subject, body });
        return { deliveredVia: req.via, messageId: req.id, duplicate: false };
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
