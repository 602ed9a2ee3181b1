import type { IncidentInfo } from '../src/domain/incident';
import type { TimelineEvent } from '../src/domain/timeline';
import type { PostmortemStore, TimelineStore } from '../src/store/store';

export interface DraftRequest {
  incident: IncidentInfo;
  template: string;
  dueAt: string;
}

const SECTIONS = [
  'Summary',
  'Impact',
  'Timeline',
  'Root cause',
  'Contributing factors',
  'What went well',
  'What went badly',
  'Action items',
] as const;

/** The timeline lines worth a reader's time: decisions, people, failures, backups; not every step boundary. */
const KEY_EVENTS = new Set<TimelineEvent['type']>([
  'incident.declared',
  'incident.acknowledged',
  'incident.escalated',
  'incident.resolved',
  'decision.taken',
  'decision.timed_out',
  'step.failed',
  'step.compensated',
  'backup.taken',
  'task.completed',
  'event.received',
  'note.added',
  'severity.changed',
]);

function draftBody(incident: IncidentInfo, events: TimelineEvent[]): string {
  const drill = incident.drill ? ' (drill)' : '';
  const lines = events.filter((e) => KEY_EVENTS.has(e.type)).map((e) => `- ${e.at} — ${e.summary} (${e.actor.name})`);
  const content: Record<(typeof SECTIONS)[number], string> = {
    Summary: `${incident.id}: ${incident.title}${drill}, ${incident.severity}${incident.service ? `, service ${incident.service}` : ''}.`,
    Impact: '_Who and what was affected, for how long._',
    Timeline: lines.join('\n') || '_No key events recorded._',
    'Root cause': '_What caused it._',
    'Contributing factors': '_What made it worse or slower to fix._',
    'What went well': '',
    'What went badly': '',
    'Action items': '| action | owner | due | status |\n| --- | --- | --- | --- |',
  };
  return SECTIONS.map((s) => `## ${s}\n\n${content[s]}\n`).join('\n');
}

/** Drafts the post-mortem from the timeline once; a retry or a later draft never overwrites people's edits. */
export function createPostmortemActivities(deps: { store: PostmortemStore & TimelineStore; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());
  return {
    async draftPostmortem(req: DraftRequest): Promise<{ created: boolean; sections: number }> {
      const events = await deps.store.listTimeline(req.incident.id, { limit: 10_000 });
      const at = now().toISOString();
      const created = await deps.store.insertPostmortem({
        incidentId: req.incident.id,
        template: req.template,
        status: 'draft',
        dueAt: req.dueAt,
        body: draftBody(req.incident, events),
        createdAt: at,
        updatedAt: at,
      });
      return { created, sections: SECTIONS.length };
    },
  };
}
