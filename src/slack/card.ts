import type { IncidentRecord } from '../domain/incident';
import type { Actor } from '../domain/roles';
import { SYSTEM_ACTOR } from '../domain/roles';
import type { TimelineEvent, TimelineEventType } from '../domain/timeline';
import { slackUserOfActor } from './identity';

/** Someone shown on the card: a Slack mention when their Slack id is known, else their name. */
export interface CardPerson {
  name: string;
  slackId: string | null;
}

export interface CardDecision {
  stepId: string;
  prompt: string;
  options: string[];
  defaultOption: string | null;
  deadline: string | null;
}

export interface CardTask {
  stepId: string;
  assignee: string;
  description: string;
  deadline: string | null;
}

/** Everything the live incident card shows, derived from the read model (incident row + timeline). */
export interface CardModel {
  incident: IncidentRecord;
  commander: CardPerson | null;
  acknowledgedBy: CardPerson | null;
  resolved: { by: CardPerson; summary: string | null } | null;
  /** Who was paged (latest page per person), in paging order. */
  paged: { person: CardPerson; via: string; level: number }[];
  pagingExhausted: boolean;
  escalationLevel: number;
  openDecisions: CardDecision[];
  decided: { stepId: string; option: string; by: CardPerson; timedOut: boolean }[];
  openTasks: CardTask[];
}

/** The timeline event types the card is derived from (the rest — steps, alerts — never change it). */
export const CARD_EVENT_TYPES: readonly TimelineEventType[] = [
  'incident.acknowledged',
  'incident.escalated',
  'incident.resolved',
  'page.sent',
  'page.exhausted',
  'decision.requested',
  'decision.taken',
  'decision.timed_out',
  'task.created',
  'task.completed',
  'step.skipped',
  'step.failed',
];

const SYSTEM_ACTOR_IDS = new Set([SYSTEM_ACTOR.id, 'runbook', 'monitoring']);

export function cardPersonOfActor(actor: Actor): CardPerson {
  return { name: actor.name, slackId: slackUserOfActor(actor) };
}

function str(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/**
 * Folds the incident's card-relevant events into what the card shows. `personOf` turns a paged person id into a
 * name and Slack id (from config/oncall.yaml).
 */
export function deriveCard(
  incident: IncidentRecord,
  events: readonly TimelineEvent[],
  personOf: (personId: string) => CardPerson,
): CardModel {
  let acknowledgedBy: CardPerson | null = null;
  let resolved: CardModel['resolved'] = null;
  let escalationLevel = 0;
  let pagingExhausted = false;
  const paged = new Map<string, CardModel['paged'][number]>();
  const openDecisions = new Map<string, CardDecision>();
  const openTasks = new Map<string, CardTask>();
  const decided: CardModel['decided'] = [];

  for (const event of [...events].sort((a, b) => a.seq - b.seq)) {
    const stepId = str(event.data.stepId);
    switch (event.type) {
      case 'incident.acknowledged':
        acknowledgedBy = cardPersonOfActor(event.actor);
        break;
      case 'incident.escalated':
        escalationLevel = typeof event.data.level === 'number' ? event.data.level : escalationLevel + 1;
        break;
      case 'incident.resolved':
        resolved = { by: cardPersonOfActor(event.actor), summary: str(event.data.summary) };
        break;
      case 'page.sent': {
        const personId = str(event.data.person);
        if (!personId) break;
        paged.delete(personId);
        paged.set(personId, {
          person: personOf(personId),
          via: str(event.data.via) ?? str(event.data.channel) ?? 'page',
          level: typeof event.data.level === 'number' ? event.data.level : 1,
        });
        break;
      }
      case 'page.exhausted':
        pagingExhausted = true;
        break;
      case 'decision.requested':
        if (stepId) {
          openDecisions.set(stepId, {
            stepId,
            prompt: event.summary,
            options: Array.isArray(event.data.options) ? event.data.options.filter((o): o is string => typeof o === 'string') : [],
            defaultOption: str(event.data.default),
            deadline: str(event.data.deadline),
          });
        }
        break;
      case 'decision.taken':
      case 'decision.timed_out':
        if (stepId) {
          openDecisions.delete(stepId);
          decided.push({
            stepId,
            option: str(event.data.option) ?? '?',
            by: cardPersonOfActor(event.actor),
            timedOut: event.type === 'decision.timed_out',
          });
        }
        break;
      case 'task.created':
        if (stepId) {
          const assignee = str(event.data.assignee) ?? 'someone';
          const prefix = `Task for ${assignee}: `;
          openTasks.set(stepId, {
            stepId,
            assignee,
            description: event.summary.startsWith(prefix) ? event.summary.slice(prefix.length) : event.summary,
            deadline: str(event.data.deadline),
          });
        }
        break;
      case 'task.completed':
      case 'step.skipped':
      case 'step.failed':
        if (stepId) {
          openTasks.delete(stepId);
          openDecisions.delete(stepId);
        }
        break;
      default:
        break;
    }
  }

  const declarer =
    incident.trigger.kind === 'manual' && !SYSTEM_ACTOR_IDS.has(incident.trigger.by.id) ? cardPersonOfActor(incident.trigger.by) : null;
  const closed = incident.status === 'closed';
  return {
    incident,
    commander: declarer ?? acknowledgedBy,
    acknowledgedBy,
    resolved,
    paged: [...paged.values()],
    pagingExhausted,
    escalationLevel,
    openDecisions: closed ? [] : [...openDecisions.values()],
    decided,
    openTasks: closed ? [] : [...openTasks.values()],
  };
}

/** Slack ids the incident channel should have: the commander, whoever acknowledged, and everyone paged. */
export function responderSlackIds(model: CardModel): string[] {
  const ids = [model.commander, model.acknowledgedBy, ...model.paged.map((p) => p.person)]
    .map((p) => p?.slackId)
    .filter((id): id is string => !!id);
  return [...new Set(ids)];
}
