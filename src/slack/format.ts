import type { Button, KnownBlock, ModalView } from '@slack/web-api';
import { drillMark } from '../domain/drill';
import type { IncidentRecord } from '../domain/incident';
import { IMPACTS, LIKELIHOODS, riskScore, severityFromRisk } from '../domain/severity';
import type { Impact, Likelihood, Severity } from '../domain/severity';
import type { TimelineEvent, TimelineEventType } from '../domain/timeline';
import type { IncidentDetail } from '../services/incidents';
import type { CardModel, CardPerson } from './card';
import { cardPersonOfActor } from './card';
import { MAX_NOTE_LENGTH } from '../domain/limits';

/** action_ids of the card's buttons; a decision button is `incident.decide:<step>:<option>`. */
export const ACTION = {
  acknowledge: 'incident.acknowledge',
  escalate: 'incident.escalate',
  resolve: 'incident.resolve',
  addNote: 'incident.add_note',
  open: 'incident.open',
  decidePrefix: 'incident.decide:',
} as const;

/** callback_ids of Fireline's modals. */
export const VIEW = { declare: 'incident.declare', note: 'incident.note' } as const;

/** Message metadata event types: the card (key = incident id) and echoed timeline events (key = `<id>:<seq>`). */
export const CARD_EVENT_TYPE = 'fireline_incident_card';
export const TIMELINE_EVENT_TYPE = 'fireline_incident_event';

/** The declaration form: block ids, and the action id of the element in each. */
export const DECLARE = {
  title: { block: 'title', action: 'declare.title' },
  runbook: { block: 'runbook', action: 'declare.runbook' },
  service: { block: 'service', action: 'declare.service' },
  likelihood: { block: 'likelihood', action: 'declare.likelihood' },
  impact: { block: 'impact', action: 'declare.impact' },
  severity: { block: 'severity' },
  summary: { block: 'summary', action: 'declare.summary' },
  drill: { block: 'drill', action: 'declare.drill' },
} as const;

export const NOTE_INPUT = { block: 'note', action: 'note.text' } as const;

const HEADER_MAX = 150;
const SECTION_MAX = 2900;
const SEVERITY_EMOJI: Record<Severity, string> = {
  SEV1: ':red_circle:',
  SEV2: ':large_orange_circle:',
  SEV3: ':large_yellow_circle:',
  SEV4: ':large_blue_circle:',
};

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Slack mrkdwn treats &, < and > as control characters. */
export function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function mention(person: CardPerson): string {
  return person.slackId ? `<@${person.slackId}>` : escapeText(person.name);
}

/** `<!date^…>`: Slack shows it in each reader's time zone. */
function slackDate(iso: string): string {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return escapeText(iso);
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time}|${iso}>`;
}

/**
 * `inc-<n>-<slugified title>`: lowercase letters, digits and dashes, at most 80 characters (Slack's limit);
 * `suffix` tells apart a second channel when the name is taken by one the bot cannot see.
 */
export function channelNameFor(incident: { id: string; title: string }, suffix = ''): string {
  const base = `inc-${incident.id
    .replace(/^INC-/i, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '')}`;
  const slug = incident.title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  const room = 80 - base.length - suffix.length - 1;
  const cut = room > 0 ? slug.slice(0, room).replace(/-+$/, '') : '';
  return `${base}${cut ? `-${cut}` : ''}${suffix}`.slice(0, 80);
}

export function incidentUrl(publicUrl: string, incidentId: string): string {
  return `${publicUrl.replace(/\/$/, '')}/incidents/${encodeURIComponent(incidentId)}`;
}

function plain(text: string) {
  return { type: 'plain_text' as const, text, emoji: true };
}

function button(actionId: string, text: string, value: string, extra: Partial<Button> = {}): Button {
  return { type: 'button', action_id: actionId, text: plain(truncate(text, 75)), value, ...extra };
}

export function decisionActionId(stepId: string, option: string): string {
  return `${ACTION.decidePrefix}${stepId}:${option}`;
}

/** The value a decision button carries: `<incident> <step> <option>` (ids never contain spaces). */
export function decisionValue(incidentId: string, stepId: string, option: string): string {
  return `${incidentId} ${stepId} ${option}`;
}

export function parseDecisionValue(value: string | undefined): { incidentId: string; stepId: string; option: string } | null {
  const parts = (value ?? '').split(' ');
  if (parts.length !== 3 || parts.some((p) => !p)) return null;
  return { incidentId: parts[0]!, stepId: parts[1]!, option: parts[2]! };
}

function headline(incident: IncidentRecord): string {
  return `${drillMark(incident.drill)}${incident.severity} · ${incident.id} · ${incident.title}`;
}

const STATUS_TEXT: Record<IncidentRecord['status'], string> = {
  open: ':rotating_light: Open — not acknowledged',
  acknowledged: ':eyes: Acknowledged',
  resolved: ':large_green_circle: Resolved',
  closed: ':checkered_flag: Closed',
};

/** The pinned live card of an incident channel. */
export function cardMessage(model: CardModel, publicUrl: string): { text: string; blocks: KnownBlock[] } {
  const { incident } = model;
  const active = incident.status === 'open' || incident.status === 'acknowledged';
  const blocks: KnownBlock[] = [
    { type: 'header', block_id: 'incident_header', text: plain(truncate(headline(incident), HEADER_MAX)) },
    {
      type: 'section',
      block_id: 'incident_summary',
      fields: [
        { type: 'mrkdwn', text: `*Status:*\n${STATUS_TEXT[incident.status]}` },
        { type: 'mrkdwn', text: `*Phase:*\n${incident.phase}` },
        { type: 'mrkdwn', text: `*Severity:*\n${SEVERITY_EMOJI[incident.severity]} ${incident.severity}` },
        { type: 'mrkdwn', text: `*Commander:*\n${model.commander ? mention(model.commander) : '_none yet_'}` },
        { type: 'mrkdwn', text: `*Service:*\n${escapeText(incident.service ?? '—')}` },
        { type: 'mrkdwn', text: `*Runbook:*\n${escapeText(incident.runbookId)}` },
      ],
    },
  ];
  if (incident.drill)
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: ':test_tube: *Drill*: an exercise, not a real incident.' }] });

  const paged = model.paged.map((p) => `${mention(p.person)} (${escapeText(p.via)}, level ${p.level})`);
  const pagingLines = [`*Paged:* ${paged.length ? paged.join(', ') : '_nobody yet_'}`];
  if (model.escalationLevel > 0) pagingLines.push(`*Escalated:* ${model.escalationLevel}×`);
  if (model.pagingExhausted && !model.acknowledgedBy)
    pagingLines.push(':warning: Every escalation level was paged and nobody acknowledged.');
  if (model.acknowledgedBy) pagingLines.push(`*Acknowledged by:* ${mention(model.acknowledgedBy)}`);
  if (model.resolved)
    pagingLines.push(
      `*Resolved by:* ${mention(model.resolved.by)}${model.resolved.summary ? ` — ${escapeText(model.resolved.summary)}` : ''}`,
    );
  blocks.push({
    type: 'section',
    block_id: 'incident_people',
    text: { type: 'mrkdwn', text: truncate(pagingLines.join('\n'), SECTION_MAX) },
  });

  for (const decision of model.openDecisions.slice(0, 10)) {
    const due = decision.deadline ? ` Default *${escapeText(decision.defaultOption ?? '?')}* ${slackDate(decision.deadline)}.` : '';
    blocks.push({
      type: 'section',
      block_id: `decision_prompt:${decision.stepId}`,
      text: {
        type: 'mrkdwn',
        text: truncate(
          `:ballot_box_with_ballot: *Decision needed* (\`${decision.stepId}\`): ${escapeText(decision.prompt)}${due}`,
          SECTION_MAX,
        ),
      },
    });
    blocks.push({
      type: 'actions',
      block_id: `decision:${decision.stepId}`,
      elements: decision.options
        .slice(0, 10)
        .map((option) =>
          button(
            decisionActionId(decision.stepId, option),
            option,
            decisionValue(incident.id, decision.stepId, option),
            option === decision.defaultOption ? { style: 'primary' } : {},
          ),
        ),
    });
  }
  if (model.openTasks.length) {
    const lines = model.openTasks.map(
      (t) =>
        `• *${escapeText(t.assignee)}*: ${escapeText(t.description)}${t.deadline ? ` (due ${slackDate(t.deadline)})` : ''} \`${t.stepId}\``,
    );
    blocks.push({
      type: 'section',
      block_id: 'incident_tasks',
      text: { type: 'mrkdwn', text: truncate(`*Open tasks*\n${lines.join('\n')}`, SECTION_MAX) },
    });
  }
  if (model.decided.length) {
    const lines = model.decided
      .slice(-5)
      .map(
        (d) => `\`${d.stepId}\` → *${escapeText(d.option)}* ${d.timedOut ? '(default, nobody decided in time)' : `by ${mention(d.by)}`}`,
      );
    blocks.push({
      type: 'context',
      block_id: 'incident_decided',
      elements: [{ type: 'mrkdwn', text: truncate(`Decided: ${lines.join(' · ')}`, SECTION_MAX) }],
    });
  }

  const actions: Button[] = [];
  if (incident.status === 'open') actions.push(button(ACTION.acknowledge, 'Acknowledge', incident.id, { style: 'primary' }));
  if (active) {
    actions.push(button(ACTION.escalate, 'Escalate', incident.id, { style: 'danger' }));
    actions.push(
      button(ACTION.resolve, 'Resolve', incident.id, {
        confirm: {
          title: plain('Resolve this incident?'),
          text: plain(`${incident.id} moves on to its retrospective.`),
          confirm: plain('Resolve'),
          deny: plain('Not yet'),
        },
      }),
    );
  }
  if (incident.status !== 'closed') actions.push(button(ACTION.addNote, 'Add note', incident.id));
  actions.push(button(ACTION.open, 'Open in Fireline', incident.id, { url: incidentUrl(publicUrl, incident.id) }));
  blocks.push({ type: 'actions', block_id: 'incident_actions', elements: actions });

  const text = `${incident.severity} ${incident.id}: ${incident.title} — ${incident.status}, phase ${incident.phase}`;
  return { text: truncate(text, 3000), blocks };
}

/** Timeline events worth a line in the incident channel; the card shows the rest. */
export const ECHOED_EVENT_TYPES: readonly TimelineEventType[] = [
  'incident.acknowledged',
  'incident.escalated',
  'decision.requested',
  'decision.taken',
  'decision.timed_out',
  'severity.changed',
  'note.added',
  'task.created',
  'task.completed',
  'page.exhausted',
  'step.failed',
  'incident.resolved',
  'incident.closed',
];

const EVENT_EMOJI: Partial<Record<TimelineEventType, string>> = {
  'incident.acknowledged': ':white_check_mark:',
  'incident.escalated': ':arrow_double_up:',
  'decision.requested': ':ballot_box_with_ballot:',
  'decision.taken': ':heavy_check_mark:',
  'decision.timed_out': ':hourglass:',
  'severity.changed': ':rotating_light:',
  'note.added': ':memo:',
  'task.created': ':clipboard:',
  'task.completed': ':ballot_box_with_check:',
  'page.exhausted': ':warning:',
  'step.failed': ':x:',
  'incident.resolved': ':large_green_circle:',
  'incident.closed': ':checkered_flag:',
};

/** One channel line for a timeline event. */
export function eventMessage(event: TimelineEvent): { text: string } {
  const emoji = EVENT_EMOJI[event.type] ?? ':small_blue_diamond:';
  const who = mention(cardPersonOfActor(event.actor));
  switch (event.type) {
    case 'note.added':
      return { text: truncate(`${emoji} *Note* from ${who}: ${escapeText(event.summary)}`, 3000) };
    case 'decision.requested': {
      const options = Array.isArray(event.data.options) ? event.data.options.join(', ') : '';
      return {
        text: truncate(
          `${emoji} *Decision needed:* ${escapeText(event.summary)}${options ? ` (${escapeText(options)})` : ''} — use the buttons on the pinned card.`,
          3000,
        ),
      };
    }
    default:
      return { text: truncate(`${emoji} ${escapeText(event.summary)}`, 3000) };
  }
}

// --- modals ------------------------------------------------------------------------------------------------

export interface RunbookChoice {
  id: string;
  title: string | null;
  severity: Severity | null;
}

export interface DeclareFormState {
  runbook?: string;
  likelihood?: Likelihood;
  impact?: Impact;
}

function option(value: string, text: string) {
  return { text: plain(truncate(text, 75)), value };
}

/** What the form says the severity will be, updated as likelihood and impact are chosen. */
export function severityPreview(state: DeclareFormState, runbooks: readonly RunbookChoice[]): string {
  if (state.likelihood && state.impact) {
    const risk = { likelihood: state.likelihood, impact: state.impact };
    const severity = severityFromRisk(risk);
    return `*Severity:* ${SEVERITY_EMOJI[severity]} *${severity}* — ${state.likelihood} × ${state.impact} (risk score ${riskScore(risk)} of 25)`;
  }
  if (state.likelihood || state.impact)
    return `*Severity:* choose ${state.likelihood ? 'the impact' : 'the likelihood'} as well to see it.`;
  const runbook = runbooks.find((r) => r.id === state.runbook);
  if (runbook?.severity)
    return `*Severity:* ${SEVERITY_EMOJI[runbook.severity]} *${runbook.severity}* from runbook \`${runbook.id}\`; choose likelihood and impact to set it yourself.`;
  return '*Severity:* from the runbook (SEV3 if it names none), or choose likelihood and impact.';
}

export function declareModal(opts: { runbooks: readonly RunbookChoice[]; state?: DeclareFormState; privateMetadata: string }): ModalView {
  const state = opts.state ?? {};
  const runbookOptions = opts.runbooks
    .slice(0, 100)
    .map((r) => option(r.id, `${r.id}${r.title ? ` — ${r.title}` : ''}${r.severity ? ` (${r.severity})` : ''}`));
  const selected = <T extends { value: string }>(options: T[], value: string | undefined) => options.find((o) => o.value === value);
  const likelihoods = LIKELIHOODS.map((l) => option(l, l));
  const impacts = IMPACTS.map((i) => option(i, i));
  const initialRunbook = selected(runbookOptions, state.runbook);
  const initialLikelihood = selected(likelihoods, state.likelihood);
  const initialImpact = selected(impacts, state.impact);
  return {
    type: 'modal',
    callback_id: VIEW.declare,
    title: plain('Declare an incident'),
    submit: plain('Declare'),
    close: plain('Cancel'),
    private_metadata: opts.privateMetadata,
    blocks: [
      {
        type: 'input',
        block_id: DECLARE.title.block,
        label: plain('Title'),
        element: {
          type: 'plain_text_input',
          action_id: DECLARE.title.action,
          min_length: 3,
          max_length: 200,
          placeholder: plain('Checkout failing for EU customers'),
        },
      },
      {
        type: 'input',
        block_id: DECLARE.runbook.block,
        label: plain('Runbook'),
        dispatch_action: true,
        element: {
          type: 'static_select',
          action_id: DECLARE.runbook.action,
          placeholder: plain('Choose the plan to run'),
          options: runbookOptions.length ? runbookOptions : [option('none', 'no usable runbook')],
          ...(initialRunbook ? { initial_option: initialRunbook } : {}),
        },
      },
      {
        type: 'input',
        block_id: DECLARE.service.block,
        optional: true,
        label: plain('Service'),
        element: {
          type: 'plain_text_input',
          action_id: DECLARE.service.action,
          max_length: 100,
          placeholder: plain('Defaults to the runbook’s service'),
        },
      },
      {
        type: 'input',
        block_id: DECLARE.likelihood.block,
        optional: true,
        dispatch_action: true,
        label: plain('Likelihood'),
        element: {
          type: 'static_select',
          action_id: DECLARE.likelihood.action,
          placeholder: plain('How likely is the harm?'),
          options: likelihoods,
          ...(initialLikelihood ? { initial_option: initialLikelihood } : {}),
        },
      },
      {
        type: 'input',
        block_id: DECLARE.impact.block,
        optional: true,
        dispatch_action: true,
        label: plain('Impact'),
        element: {
          type: 'static_select',
          action_id: DECLARE.impact.action,
          placeholder: plain('How bad is it?'),
          options: impacts,
          ...(initialImpact ? { initial_option: initialImpact } : {}),
        },
      },
      { type: 'context', block_id: DECLARE.severity.block, elements: [{ type: 'mrkdwn', text: severityPreview(state, opts.runbooks) }] },
      {
        type: 'input',
        block_id: DECLARE.summary.block,
        optional: true,
        label: plain('Summary'),
        element: { type: 'plain_text_input', action_id: DECLARE.summary.action, multiline: true, max_length: 3000 },
      },
      {
        type: 'input',
        block_id: DECLARE.drill.block,
        optional: true,
        label: plain('Drill'),
        element: {
          type: 'checkboxes',
          action_id: DECLARE.drill.action,
          options: [{ text: plain('This is a drill (side effects are simulated)'), value: 'drill' }],
        },
      },
    ],
  };
}

export function noteModal(opts: { incidentId: string; privateMetadata: string }): ModalView {
  return {
    type: 'modal',
    callback_id: VIEW.note,
    title: plain(truncate(`Note on ${opts.incidentId}`, 24)),
    submit: plain('Add note'),
    close: plain('Cancel'),
    private_metadata: opts.privateMetadata,
    blocks: [
      {
        type: 'input',
        block_id: NOTE_INPUT.block,
        label: plain('Note for the timeline'),
        element: { type: 'plain_text_input', action_id: NOTE_INPUT.action, multiline: true, max_length: MAX_NOTE_LENGTH },
      },
    ],
  };
}

// --- command answers -----------------------------------------------------------------------------------------

export function listText(incidents: readonly IncidentRecord[], channels: ReadonlyMap<string, string>): string {
  if (incidents.length === 0) return 'No open incidents. :sunny:';
  const lines = incidents.map((i) => {
    const channel = channels.get(i.id);
    return `• ${SEVERITY_EMOJI[i.severity]} *${i.id}* ${escapeText(i.title)} — ${i.status}, ${i.phase}${i.drill ? ' (drill)' : ''}${channel ? ` <#${channel}>` : ''}`;
  });
  return truncate(`*Open incidents* (${incidents.length})\n${lines.join('\n')}`, 3000);
}

export function statusText(detail: IncidentDetail, channelId: string | null): string {
  const { incident, live } = detail;
  const lines = [
    `${SEVERITY_EMOJI[incident.severity]} *${incident.id}* ${escapeText(incident.title)}${incident.drill ? ' (drill)' : ''}`,
    `Status *${incident.status}*, phase *${incident.phase}*, severity *${incident.severity}*, runbook \`${incident.runbookId}\`${incident.service ? `, service ${escapeText(incident.service)}` : ''}`,
  ];
  if (live?.acknowledged) lines.push(`Acknowledged by ${mention(cardPersonOfActor(live.acknowledged.by))}`);
  if (live && live.escalationLevel > 0) lines.push(`Escalated ${live.escalationLevel}×`);
  for (const d of live?.openDecisions ?? [])
    lines.push(
      `:ballot_box_with_ballot: Decision \`${d.stepId}\` (${d.approver}): ${escapeText(d.prompt)} — ${d.options.join(' / ')}, default *${d.default}* ${slackDate(d.deadline)}`,
    );
  for (const t of live?.openTasks ?? [])
    lines.push(`:clipboard: Task \`${t.stepId}\` for ${escapeText(t.assignee)}: ${escapeText(t.description)}`);
  if (live?.resolved)
    lines.push(
      `Resolved by ${mention(cardPersonOfActor(live.resolved.by))}${live.resolved.summary ? `: ${escapeText(live.resolved.summary)}` : ''}`,
    );
  if (!live && incident.status !== 'closed') lines.push('_Live state unavailable right now; this is the last recorded state._');
  if (channelId) lines.push(`Channel: <#${channelId}>`);
  return truncate(lines.join('\n'), 3000);
}
