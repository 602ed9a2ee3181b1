import { randomBytes } from 'node:crypto';
import type {
  ActionItemListing,
  ActionItemRecord,
  ActionItemStatus,
  EditablePostmortem,
  AuditStore,
  IncidentStore,
  Page,
  PostmortemRecord,
  PostmortemStore,
} from '../store/store';
import { createAuditLog } from './audit';
import type { ActionContext } from './audit';
import { ServiceError, conflict, invalidField, notFound } from './errors';
import type { IncidentService } from './incidents';

/*
 * A post-mortem is one Markdown body in the draft's shape: `## <Section>` headings in a fixed order. The prose
 * sections are read and written as named fields (`sections.rootCause` is the text under `## Root cause`); text
 * under other headings is kept as it is. Action items are structured rows of their own, and the body's
 * `## Action items` section is rendered from them on every save, so the Markdown stays complete for export.
 */

export const SECTION_HEADINGS = {
  summary: 'Summary',
  impact: 'Impact',
  timeline: 'Timeline',
  rootCause: 'Root cause',
  contributingFactors: 'Contributing factors',
  wentWell: 'What went well',
  wentBadly: 'What went badly',
} as const;
export type SectionKey = keyof typeof SECTION_HEADINGS;
export const SECTION_KEYS = Object.keys(SECTION_HEADINGS) as SectionKey[];
export type Sections = Record<SectionKey, string>;

const ACTION_ITEMS_HEADING = 'Action items';
export type PostmortemStatus = PostmortemRecord['status'];

/** Allowed moves: draft ⇄ in-review → done; done is final (its action items still change). */
const NEXT_STATUS: Record<PostmortemStatus, readonly PostmortemStatus[]> = {
  draft: ['in-review'],
  'in-review': ['draft', 'done'],
  done: [],
};

interface Block {
  heading: string | null;
  text: string;
}

/** Splits Markdown at `## ` headings; the first block (heading null) is what comes before any of them. */
export function splitSections(body: string): Block[] {
  const blocks: Block[] = [{ heading: null, text: '' }];
  const lines = body.replace(/\r\n?/g, '\n').split('\n');
  const texts: string[][] = [[]];
  let fence = false;
  for (const line of lines) {
    if (/^\s*(```|~~~)/.test(line)) fence = !fence;
    const match = fence ? null : /^## +(.+?)\s*#*\s*$/.exec(line);
    if (match) {
      blocks.push({ heading: match[1]!, text: '' });
      texts.push([]);
    } else {
      texts[texts.length - 1]!.push(line);
    }
  }
  return blocks.map((b, i) => ({ ...b, text: texts[i]!.join('\n').trim() }));
}

function joinSections(blocks: Block[]): string {
  const parts = blocks
    .filter((b) => b.heading !== null || b.text)
    .map((b) => (b.heading === null ? `${b.text}\n` : `## ${b.heading}\n\n${b.text ? `${b.text}\n` : ''}`));
  return parts.join('\n');
}

const sameHeading = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();

export function sectionsOf(body: string): Sections {
  const blocks = splitSections(body);
  const out = {} as Sections;
  for (const key of SECTION_KEYS) out[key] = blocks.find((b) => b.heading && sameHeading(b.heading, SECTION_HEADINGS[key]))?.text ?? '';
  return out;
}

/** Replaces the named sections' text; a section the body lacks is added in the draft's order. */
export function withSections(body: string, changes: Partial<Sections>): string {
  const blocks = splitSections(body);
  for (const key of SECTION_KEYS) {
    const text = changes[key];
    if (text === undefined) continue;
    const heading = SECTION_HEADINGS[key];
    const found = blocks.find((b) => b.heading && sameHeading(b.heading, heading));
    if (found) {
      found.text = text.trim();
      continue;
    }
    // Before the first known section that comes after it in the draft's order, else at the end.
    const later: string[] = [...SECTION_KEYS.slice(SECTION_KEYS.indexOf(key) + 1).map((k) => SECTION_HEADINGS[k]), ACTION_ITEMS_HEADING];
    const at = blocks.findIndex((b) => b.heading && later.some((h) => sameHeading(h, b.heading!)));
    blocks.splice(at === -1 ? blocks.length : at, 0, { heading, text: text.trim() });
  }
  return joinSections(blocks);
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
}

export function actionItemsTable(items: readonly Pick<ActionItemRecord, 'title' | 'owner' | 'due' | 'status'>[]): string {
  const rows = items.map((i) => `| ${cell(i.title)} | ${cell(i.owner ?? '')} | ${i.due ?? ''} | ${i.status} |`);
  return ['| action | owner | due | status |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/** Renders the Action items section from the rows; added at the end when the body has none. */
export function withActionItems(body: string, items: readonly ActionItemRecord[]): string {
  const blocks = splitSections(body);
  const table = actionItemsTable(items);
  const found = blocks.find((b) => b.heading && sameHeading(b.heading, ACTION_ITEMS_HEADING));
  if (found) found.text = table;
  else blocks.push({ heading: ACTION_ITEMS_HEADING, text: table });
  return joinSections(blocks);
}

export interface ActionItemInput {
  id?: string;
  title: string;
  owner?: string | null;
  due?: string | null;
  status?: ActionItemStatus;
}

export interface PostmortemEdit {
  body?: string;
  sections?: Partial<Sections>;
  actionItems?: ActionItemInput[];
  status?: PostmortemStatus;
}

export interface ActionItemView {
  id: string;
  title: string;
  owner: string | null;
  due: string | null;
  status: ActionItemStatus;
  createdAt: string;
  updatedAt: string;
  completedAt: string | null;
}

export interface PostmortemView {
  incidentId: string;
  template: string;
  status: PostmortemStatus;
  dueAt: string;
  version: number;
  body: string;
  sections: Sections;
  actionItems: ActionItemView[];
  createdAt: string;
  updatedAt: string;
}

function viewOf(pm: PostmortemRecord, version: number, items: readonly ActionItemRecord[]): PostmortemView {
  return {
    incidentId: pm.incidentId,
    template: pm.template,
    status: pm.status,
    dueAt: pm.dueAt,
    version,
    body: pm.body,
    sections: sectionsOf(pm.body),
    actionItems: items.map(({ id, title, owner, due, status, createdAt, updatedAt, completedAt }) => ({
      id,
      title,
      owner,
      due,
      status,
      createdAt,
      updatedAt,
      completedAt,
    })),
    createdAt: pm.createdAt,
    updatedAt: pm.updatedAt,
  };
}

/** Lines added and removed, counted as multisets: enough to say how much a section changed. */
function lineChanges(before: string, after: string): { added: number; removed: number } {
  const count = (text: string) => {
    const m = new Map<string, number>();
    for (const line of text.split('\n')) if (line.trim()) m.set(line, (m.get(line) ?? 0) + 1);
    return m;
  };
  const a = count(before);
  const b = count(after);
  let added = 0;
  let removed = 0;
  for (const [line, n] of b) added += Math.max(0, n - (a.get(line) ?? 0));
  for (const [line, n] of a) removed += Math.max(0, n - (b.get(line) ?? 0));
  return { added, removed };
}

export interface EditDiff {
  summary: string;
  status?: { from: PostmortemStatus; to: PostmortemStatus };
  sections?: Record<string, { added: number; removed: number }>;
  actionItems?: { added: string[]; removed: string[]; completed: string[]; reopened: string[]; edited: string[] };
}

/** What an edit changed, for the audit log: names and counts, not the text itself. */
export function diffEdit(
  before: { body: string; status: PostmortemStatus; items: readonly ActionItemRecord[] },
  after: { body: string; status: PostmortemStatus; items: readonly ActionItemRecord[] },
): EditDiff {
  const diff: EditDiff = { summary: '' };
  const parts: string[] = [];
  if (before.status !== after.status) {
    diff.status = { from: before.status, to: after.status };
    parts.push(`status ${before.status} → ${after.status}`);
  }
  const headingsOf = (body: string) =>
    splitSections(body).filter((b) => b.heading !== null && !sameHeading(b.heading, ACTION_ITEMS_HEADING));
  const beforeBlocks = headingsOf(before.body);
  const afterBlocks = headingsOf(after.body);
  const names = [...new Set([...beforeBlocks, ...afterBlocks].map((b) => b.heading!))];
  const sections: Record<string, { added: number; removed: number }> = {};
  for (const name of names) {
    const was = beforeBlocks.find((b) => b.heading === name)?.text ?? '';
    const now = afterBlocks.find((b) => b.heading === name)?.text ?? '';
    if (was === now) continue;
    sections[name] = lineChanges(was, now);
    parts.push(`${name} +${sections[name].added}/−${sections[name].removed} lines`);
  }
  const preambleBefore = splitSections(before.body)[0]!.text;
  const preambleAfter = splitSections(after.body)[0]!.text;
  if (preambleBefore !== preambleAfter) {
    sections['(before the first section)'] = lineChanges(preambleBefore, preambleAfter);
    parts.push('text before the first section changed');
  }
  if (Object.keys(sections).length) diff.sections = sections;
  const old = new Map(before.items.map((i) => [i.id, i]));
  const next = new Map(after.items.map((i) => [i.id, i]));
  const items = {
    added: [] as string[],
    removed: [] as string[],
    completed: [] as string[],
    reopened: [] as string[],
    edited: [] as string[],
  };
  for (const item of after.items) {
    const was = old.get(item.id);
    if (!was) items.added.push(item.title);
    else if (was.status !== item.status) (item.status === 'done' ? items.completed : items.reopened).push(item.title);
    else if (was.title !== item.title || was.owner !== item.owner || was.due !== item.due) items.edited.push(item.title);
  }
  for (const item of before.items) if (!next.has(item.id)) items.removed.push(item.title);
  const itemParts = Object.entries(items)
    .filter(([, list]) => list.length)
    .map(([what, list]) => `${list.length} ${what}`);
  if (itemParts.length) {
    diff.actionItems = items;
    parts.push(`action items: ${itemParts.join(', ')}`);
  }
  diff.summary = parts.join('; ') || 'no change';
  return diff;
}

/** The first line of the summary section, short enough for a timeline line. */
function reviewSummaryOf(body: string): string | undefined {
  const first = sectionsOf(body)
    .summary.split('\n')
    .map((l) => l.trim())
    .find((l) => l && !/^_.*_$/.test(l));
  return first ? first.slice(0, 300) : undefined;
}

function newActionItemId(): string {
  return `ai_${randomBytes(6).toString('hex')}`;
}

export class VersionConflictError extends ServiceError {
  constructor(
    readonly currentVersion: number | null,
    expected: number,
  ) {
    super(
      'conflict',
      `the post-mortem was saved by someone else (version ${currentVersion ?? '?'}, you edited version ${expected}); reload it and apply your change again`,
      { currentVersion, expectedVersion: expected },
    );
  }
}

/**
 * Editing post-mortems: commander edits, every edit is audited with what it changed, saves are optimistic
 * (a stale version is refused with 409), and marking one done completes the workflow's review so the
 * incident closes.
 */
export function createPostmortemService(deps: {
  store: AuditStore & IncidentStore & PostmortemStore;
  incidents: Pick<IncidentService, 'get' | 'completeReview'>;
  now?: () => Date;
}) {
  const now = deps.now ?? (() => new Date());

  async function load(id: string): Promise<EditablePostmortem> {
    if (!(await deps.store.getIncident(id))) throw notFound(`no incident ${id}`);
    const pm = await deps.store.getEditablePostmortem(id);
    if (!pm) throw notFound(`incident ${id} has no post-mortem yet (it is drafted in the retrospective)`);
    return pm;
  }

  const auditLog = createAuditLog(deps);
  const audit = (ctx: ActionContext, id: string, details: Record<string, unknown>, outcome: 'ok' | 'rejected') =>
    auditLog.record(ctx, { action: 'postmortem.edit', incidentId: id, details, outcome });

  function nextItems(
    id: string,
    current: readonly ActionItemRecord[],
    input: readonly ActionItemInput[],
    at: string,
    finished: boolean,
  ): ActionItemRecord[] {
    const byId = new Map(current.map((i) => [i.id, i]));
    const seen = new Set<string>();
    const items = input.map((given, position): ActionItemRecord => {
      const status = given.status ?? 'open';
      if (given.id !== undefined) {
        const was = byId.get(given.id);
        if (!was)
          throw invalidField(`actionItems.${position}.id`, `no action item ${given.id} in this post-mortem (leave id out to add one)`);
        if (seen.has(given.id)) throw invalidField(`actionItems.${position}.id`, `action item ${given.id} is listed twice`);
        seen.add(given.id);
        const next = { ...was, position, title: given.title, owner: given.owner ?? null, due: given.due ?? null, status };
        const changed =
          next.title !== was.title ||
          next.owner !== was.owner ||
          next.due !== was.due ||
          next.status !== was.status ||
          next.position !== was.position;
        return {
          ...next,
          updatedAt: changed ? at : was.updatedAt,
          completedAt: status === 'done' ? (was.status === 'done' ? was.completedAt : at) : null,
        };
      }
      return {
        id: newActionItemId(),
        incidentId: id,
        position,
        title: given.title,
        owner: given.owner ?? null,
        due: given.due ?? null,
        status,
        createdAt: at,
        updatedAt: at,
        completedAt: status === 'done' ? at : null,
      };
    });
    if (finished) {
      const dropped = current.filter((i) => !seen.has(i.id));
      if (dropped.length)
        throw conflict(
          `the post-mortem is done: action items can be completed or added, not removed (${dropped.map((i) => i.title).join(', ')})`,
        );
    }
    return items;
  }

  return {
    async get(id: string): Promise<PostmortemView> {
      const pm = await load(id);
      return viewOf(pm.postmortem, pm.version, pm.actionItems);
    },

    async update(id: string, edit: PostmortemEdit, expectedVersion: number, ctx: ActionContext): Promise<PostmortemView> {
      const current = await load(id);
      const before = current.postmortem;
      if (current.version !== expectedVersion) {
        await audit(ctx, id, { expectedVersion, currentVersion: current.version, error: 'version conflict' }, 'rejected');
        throw new VersionConflictError(current.version, expectedVersion);
      }
      const at = now().toISOString();
      const status = edit.status ?? before.status;
      const finished = before.status === 'done';
      let prose = edit.body ?? before.body;
      if (edit.sections !== undefined) prose = withSections(prose, edit.sections);
      if (finished && (status !== 'done' || withActionItems(prose, []) !== withActionItems(before.body, []))) {
        throw conflict('the post-mortem is done: only its action items can change');
      }
      if (status !== before.status && !NEXT_STATUS[before.status].includes(status)) {
        const hint = status === 'done' ? ' (move it to in-review first)' : '';
        throw conflict(`a post-mortem cannot go from ${before.status} to ${status}${hint}`);
      }
      const items =
        edit.actionItems === undefined ? current.actionItems : nextItems(id, current.actionItems, edit.actionItems, at, finished);
      const body = withActionItems(prose, items);
      const diff = diffEdit({ body: before.body, status: before.status, items: current.actionItems }, { body, status, items });
      if (diff.summary === 'no change') return viewOf(before, current.version, current.actionItems);

      const markingDone = status === 'done' && before.status !== 'done';
      let closesWorkflow = false;
      if (markingDone) {
        const detail = await deps.incidents.get(id);
        closesWorkflow = detail.incident.status !== 'closed';
        // A closed incident (a drill, or a runbook without a review) has nothing left to close.
        if (closesWorkflow && detail.live && !detail.live.awaitingReview) {
          await audit(ctx, id, { ...diff, error: 'the workflow is not waiting for a review' }, 'rejected');
          throw conflict(
            `incident ${id} is not waiting for its post-mortem review (phase ${detail.live.phase}); it can be marked done once the retrospective asks for it`,
          );
        }
      }

      const saved = await deps.store.savePostmortem({ incidentId: id, expectedVersion, body, status, updatedAt: at, actionItems: items });
      if (!saved.saved) {
        await audit(ctx, id, { expectedVersion, currentVersion: saved.currentVersion, error: 'version conflict' }, 'rejected');
        throw new VersionConflictError(saved.currentVersion, expectedVersion);
      }
      let version = saved.version;

      if (closesWorkflow) {
        try {
          await deps.incidents.completeReview(id, reviewSummaryOf(body), ctx);
        } catch (err) {
          // The workflow refused: take the status back so the post-mortem does not claim a review that did not happen.
          const undo = await deps.store.savePostmortem({
            incidentId: id,
            expectedVersion: version,
            body,
            status: before.status,
            updatedAt: now().toISOString(),
            actionItems: items,
          });
          if (undo.saved) version = undo.version;
          await audit(ctx, id, { ...diff, fromVersion: expectedVersion, toVersion: version, error: (err as Error).message }, 'rejected');
          if (err instanceof ServiceError && err.code === 'not_found')
            throw conflict(`incident ${id} is not waiting for its post-mortem review: ${err.message}`);
          throw err;
        }
      }

      await audit(ctx, id, { ...diff, fromVersion: expectedVersion, toVersion: version }, 'ok');
      const after = await load(id);
      return viewOf(after.postmortem, after.version, after.actionItems);
    },

    listActionItems(filter: { status?: ActionItemStatus; cursor?: string; limit: number }): Promise<Page<ActionItemListing>> {
      return deps.store.listActionItems(filter);
    },
  };
}

export type PostmortemService = ReturnType<typeof createPostmortemService>;
