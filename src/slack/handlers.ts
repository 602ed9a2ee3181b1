import { randomUUID } from 'node:crypto';
import type { App, BlockAction, ButtonAction, SlackCommandMiddlewareArgs, StaticSelectAction, ViewStateValue } from '@slack/bolt';
import type { KnownBlock } from '@slack/web-api';
import { DeclareIncidentSchema } from '../domain/incident';
import type { DeclareIncidentInput, IncidentRecord } from '../domain/incident';
import { ImpactSchema, LikelihoodSchema } from '../domain/severity';
import type { Logger } from '../logger';
import type { RunbookSummary } from '../runbooks/catalog';
import { PERMISSIONS, can } from '../services/access';
import type { UseCase } from '../services/access';
import { createAuditLog } from '../services/audit';
import type { ActionContext } from '../services/audit';
import { ServiceError } from '../services/errors';
import type { IncidentService } from '../services/incidents';
import type { AuditStore, SlackStore } from '../store/store';
import { HELP_TEXT, parseIncidentCommand } from './commands';
import type { IncidentCommand } from './commands';
import {
  ACTION,
  DECLARE,
  NOTE_INPUT,
  VIEW,
  channelNameFor,
  declareModal,
  escapeText,
  listText,
  noteModal,
  parseDecisionValue,
  statusText,
  truncate,
} from './format';
import type { DeclareFormState, RunbookChoice } from './format';
import type { SlackGateway } from './gateway';
import { toSlackCallError } from './gateway';
import type { SlackDirectory, SlackIdentity } from './identity';
import { MAX_NOTE_LENGTH } from '../domain/limits';

export interface SlackHandlerDeps {
  incidents: IncidentService;
  store: AuditStore & SlackStore;
  runbooks: { list(): Promise<RunbookSummary[]>; get(id: string): Promise<{ runbook: { title: string } } | undefined> };
  directory: SlackDirectory;
  gateway: SlackGateway;
  logger: Logger;
  /** Reaction that turns a message in an incident channel into a timeline note (default `memo`, i.e. :memo:). */
  noteReaction: string;
  /** Runbook of `/incident declare sev1 <title>` when no `--runbook` is given (default `triage`). */
  quickRunbook: string;
  /** The slash command's name (default `/incident`). */
  command: string;
}

interface Reply {
  text: string;
  blocks?: KnownBlock[];
  /** Visible to the whole channel (declarations); otherwise only to the user. */
  inChannel?: boolean;
}

/** What a modal carries from where it was opened to its submission. */
interface ModalMetadata {
  responseUrl?: string;
  channel?: string;
  incidentId?: string;
}

/** The use case behind each Slack action (its role is in src/services/access.ts), and how a refusal names it. */
export const SLACK_ACTIONS = {
  declare: { useCase: 'incident.declare', what: 'declare incidents' },
  run: { useCase: 'incident.declare', what: 'launch runbooks' },
  ack: { useCase: 'incident.acknowledge', what: 'acknowledge incidents' },
  escalate: { useCase: 'incident.escalate', what: 'escalate incidents' },
  resolve: { useCase: 'incident.resolve', what: 'resolve incidents' },
  note: { useCase: 'incident.note', what: 'add notes' },
  decide: { useCase: 'incident.decide', what: 'take decisions' },
} as const satisfies Record<string, { useCase: UseCase; what: string }>;
type SlackAction = keyof typeof SLACK_ACTIONS;

const DRILL_VALUE = 'drill';

function parseMetadata(text: string | undefined): ModalMetadata {
  try {
    const parsed = JSON.parse(text ?? '{}') as Record<string, unknown>;
    const pick = (k: string) => (typeof parsed[k] === 'string' ? (parsed[k] as string) : undefined);
    const out: ModalMetadata = {};
    const responseUrl = pick('responseUrl');
    const channel = pick('channel');
    const incidentId = pick('incidentId');
    if (responseUrl) out.responseUrl = responseUrl;
    if (channel) out.channel = channel;
    if (incidentId) out.incidentId = incidentId;
    return out;
  } catch {
    return {};
  }
}

export function registerSlackHandlers(app: App, deps: SlackHandlerDeps): void {
  const { incidents, store, directory, gateway, logger } = deps;
  const audit = createAuditLog({ store });

  function context(identity: SlackIdentity, path: string, idempotencyKey?: string): ActionContext {
    return {
      actor: identity.actor,
      requestId: randomUUID(),
      source: 'slack',
      method: 'slack',
      path,
      ...(idempotencyKey ? { idempotencyKey } : {}),
    };
  }

  /** A refusal Fireline decides itself (below the use case's least role) is audited like the service's own refusals. */
  async function refuse(identity: SlackIdentity, action: SlackAction, incidentId: string | null, path: string): Promise<Reply> {
    const { useCase, what } = SLACK_ACTIONS[action];
    const needed = PERMISSIONS[useCase];
    await audit.record(context(identity, path), {
      action: useCase,
      incidentId,
      details: { error: `needs the ${needed} role` },
      outcome: 'rejected',
    });
    const who = identity.person
      ? `you are a ${identity.actor.role}`
      : 'your Slack account is not linked to anyone in Fireline’s on-call config, so you are a viewer';
    return { text: `:no_entry_sign: Only a ${needed} or above may ${what}; ${who}.` };
  }

  function allowed(identity: SlackIdentity, action: SlackAction): boolean {
    return can(identity.actor.role, SLACK_ACTIONS[action].useCase);
  }

  function describe(error: unknown, what: string): Reply {
    if (error instanceof ServiceError) {
      const icon = {
        not_found: ':mag:',
        conflict: ':no_entry:',
        forbidden: ':no_entry_sign:',
        invalid: ':warning:',
        unavailable: ':hourglass:',
      }[error.code];
      const hint = error.code === 'not_found' && /incident/.test(error.message) ? ' `/incident list` shows the open ones.' : '';
      const runbookHint = error.message.startsWith('runbook:') ? ' `/incident declare` lists the runbooks.' : '';
      return { text: `${icon} Could not ${what}: ${escapeText(error.message)}.${hint}${runbookHint}` };
    }
    const failure = error instanceof Error && error.name === 'SlackCallError' ? toSlackCallError(error, 'slack') : null;
    if (failure?.slackError === 'expired_trigger_id' || failure?.slackError === 'exchanged_trigger_id') {
      return { text: ':hourglass: Slack took too long to open the form; please try again.' };
    }
    logger.error({ err: error instanceof Error ? error.message : String(error), what }, 'slack: request failed');
    return { text: `:warning: Could not ${what}: something went wrong on Fireline’s side (logged). Please try again.` };
  }

  /** Answers the user: through the interaction's response_url, else in a DM from the app. */
  async function reply(target: { responseUrl?: string; user: string }, message: Reply): Promise<void> {
    const body = {
      response_type: message.inChannel ? 'in_channel' : 'ephemeral',
      replace_original: false,
      text: message.text,
      ...(message.blocks ? { blocks: message.blocks } : {}),
    };
    if (target.responseUrl) {
      try {
        const res = await fetch(target.responseUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(5000),
        });
        if (res.ok) return;
        logger.warn({ status: res.status }, 'slack: response_url refused the answer; sending a DM instead');
      } catch (error) {
        logger.warn({ err: (error as Error).message }, 'slack: response_url failed; sending a DM instead');
      }
    }
    try {
      await gateway.call(
        'chat.postMessage',
        { channel: target.user, text: message.text, ...(message.blocks ? { blocks: message.blocks } : {}) },
        { channel: target.user, maxWaitMs: 5000 },
      );
    } catch (error) {
      logger.error({ err: (error as Error).message }, 'slack: could not answer the user');
    }
  }

  /** The incident named, else the one whose channel this is. */
  async function incidentOf(explicit: string | undefined, channelId: string | undefined): Promise<string | Reply> {
    if (explicit) return explicit;
    const row = channelId ? await store.findSlackIncidentByChannel(channelId) : undefined;
    if (row) return row.incidentId;
    return {
      text: ':grey_question: This channel is not an incident channel: name the incident, e.g. `INC-12` (`/incident list` shows the open ones).',
    };
  }

  async function runbookChoices(): Promise<RunbookChoice[]> {
    return (await deps.runbooks.list())
      .filter((r) => r.problems.length === 0)
      .map((r) => ({ id: r.id, title: r.title, severity: r.severity }));
  }

  function declaredReply(record: IncidentRecord, identity: SlackIdentity): Reply {
    const drill = record.drill ? ' as a *drill*' : '';
    return {
      inChannel: true,
      text: `:rotating_light: ${escapeText(identity.actor.name)} declared *${record.id}* (${record.severity}) “${escapeText(record.title)}” with runbook \`${record.runbookId}\`${drill}. Channel: #${channelNameFor(record)}`,
    };
  }

  async function declare(identity: SlackIdentity, input: Record<string, unknown>, path: string, key: string): Promise<Reply> {
    const parsed = DeclareIncidentSchema.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return { text: `:warning: ${issue.path.join('.') || 'input'}: ${escapeText(issue.message)}` };
    }
    try {
      const record = await incidents.declare(parsed.data, context(identity, path, key));
      return declaredReply(record, identity);
    } catch (error) {
      return describe(error, 'declare the incident');
    }
  }

  async function steer(
    identity: SlackIdentity,
    action: 'ack' | 'escalate' | 'resolve' | 'note',
    incidentId: string,
    path: string,
    key: string,
    text?: string,
  ): Promise<Reply> {
    if (!allowed(identity, action)) return refuse(identity, action, incidentId, path);
    const ctx = context(identity, path, key);
    try {
      switch (action) {
        case 'ack':
          await incidents.acknowledge(incidentId, ctx);
          return { text: `:white_check_mark: You acknowledged *${incidentId}*; further pages are withdrawn.` };
        case 'escalate':
          await incidents.escalate(incidentId, text, ctx);
          return { text: `:arrow_double_up: *${incidentId}* escalated: the next level is paged now.` };
        case 'resolve':
          await incidents.resolve(incidentId, text, ctx);
          return { text: `:large_green_circle: *${incidentId}* resolved; its retrospective runs next.` };
        case 'note':
          await incidents.addNote(incidentId, text ?? '', ctx);
          return { text: `:memo: Note added to *${incidentId}*’s timeline.` };
      }
    } catch (error) {
      return describe(
        error,
        `${{ ack: 'acknowledge', escalate: 'escalate', resolve: 'resolve', note: 'add the note to' }[action]} ${incidentId}`,
      );
    }
  }

  async function openDeclareForm(identity: SlackIdentity, triggerId: string, metadata: ModalMetadata): Promise<Reply | null> {
    if (!allowed(identity, 'declare')) return refuse(identity, 'declare', null, `${deps.command} declare`);
    try {
      const view = declareModal({ runbooks: await runbookChoices(), privateMetadata: JSON.stringify(metadata) });
      await gateway.call('views.open', { trigger_id: triggerId, view }, { channel: 'views', maxWaitMs: 0 });
      return null;
    } catch (error) {
      return describe(error, 'open the declaration form');
    }
  }

  async function listOpen(): Promise<Reply> {
    const open = await incidents.listActive(20);
    const channels = new Map<string, string>();
    for (const incident of open) {
      const row = await store.getSlackIncident(incident.id);
      if (row?.channelId) channels.set(incident.id, row.channelId);
    }
    return { text: listText(open, channels) };
  }

  async function runCommand(
    parsed: Exclude<IncidentCommand, { kind: 'help' | 'invalid' }>,
    command: SlackCommandMiddlewareArgs['command'],
  ): Promise<Reply | null> {
    const identity = await directory.identify(command.user_id, command.user_name);
    const path = `${deps.command} ${parsed.kind}`;
    const key = `command:${command.trigger_id}`;
    switch (parsed.kind) {
      case 'declare-form':
        return openDeclareForm(identity, command.trigger_id, { responseUrl: command.response_url, channel: command.channel_id });
      case 'declare':
        if (!allowed(identity, 'declare')) return refuse(identity, 'declare', null, path);
        return declare(
          identity,
          {
            title: parsed.title,
            runbook: parsed.runbook ?? deps.quickRunbook,
            ...(parsed.severity ? { severity: parsed.severity } : {}),
            ...(parsed.drill ? { drill: true } : {}),
          },
          path,
          key,
        );
      case 'run': {
        if (!allowed(identity, 'run')) return refuse(identity, 'run', null, path);
        const snapshot = await deps.runbooks.get(parsed.runbook);
        if (!snapshot)
          return { text: `:warning: No usable runbook "${escapeText(parsed.runbook)}". \`/incident declare\` lists the runbooks.` };
        const title = parsed.title ?? `${parsed.drill ? 'Drill: ' : ''}${snapshot.runbook.title}`;
        return declare(
          identity,
          { title: truncate(title, 200), runbook: parsed.runbook, ...(parsed.drill ? { drill: true } : {}) },
          path,
          key,
        );
      }
      case 'list':
        return listOpen();
      case 'status': {
        const id = await incidentOf(parsed.incidentId, command.channel_id);
        if (typeof id !== 'string') return id;
        try {
          const detail = await incidents.get(id);
          const row = await store.getSlackIncident(id);
          return { text: statusText(detail, row?.channelId ?? null) };
        } catch (error) {
          return describe(error, `show ${id}`);
        }
      }
      case 'ack':
      case 'escalate':
      case 'resolve':
      case 'note': {
        const id = await incidentOf(parsed.incidentId, command.channel_id);
        if (typeof id !== 'string') return id;
        const text =
          parsed.kind === 'escalate'
            ? parsed.reason
            : parsed.kind === 'resolve'
              ? parsed.summary
              : parsed.kind === 'note'
                ? parsed.text
                : undefined;
        return steer(identity, parsed.kind, id, path, key, text);
      }
    }
  }

  app.command(deps.command, async ({ command, ack }) => {
    const parsed = parseIncidentCommand(command.text ?? '');
    if (parsed.kind === 'help') {
      await ack({ response_type: 'ephemeral', text: HELP_TEXT });
      return;
    }
    if (parsed.kind === 'invalid') {
      await ack({ response_type: 'ephemeral', text: `:warning: ${parsed.message}` });
      return;
    }
    // Slack wants an answer within 3 s; Temporal and the read model are consulted after it.
    await ack();
    let answer: Reply | null;
    try {
      answer = await runCommand(parsed, command);
    } catch (error) {
      answer = describe(error, `run \`${deps.command} ${parsed.kind}\``);
    }
    if (answer) await reply({ responseUrl: command.response_url, user: command.user_id }, answer);
  });

  // --- buttons on the card ---------------------------------------------------------------------------------

  /** A click's identity: replaying the same signed request (Slack allows it for 5 minutes) changes nothing twice. */
  function clickKey(body: BlockAction, action: { action_ts: string }): string {
    return `${body.container?.message_ts ?? body.container?.view_id ?? ''}:${action.action_ts}:${body.user.id}`;
  }

  async function onButton(body: BlockAction, action: ButtonAction, what: 'ack' | 'escalate' | 'resolve'): Promise<void> {
    const identity = await directory.identify(body.user.id, body.user.username ?? body.user.name);
    const answer = await steer(identity, what, action.value ?? '', `action:${action.action_id}`, clickKey(body, action));
    await reply({ responseUrl: body.response_url, user: body.user.id }, answer);
  }

  app.action<BlockAction<ButtonAction>>(ACTION.acknowledge, async ({ ack, body, action }) => {
    await ack();
    await onButton(body, action, 'ack');
  });
  app.action<BlockAction<ButtonAction>>(ACTION.escalate, async ({ ack, body, action }) => {
    await ack();
    await onButton(body, action, 'escalate');
  });
  app.action<BlockAction<ButtonAction>>(ACTION.resolve, async ({ ack, body, action }) => {
    await ack();
    await onButton(body, action, 'resolve');
  });

  app.action<BlockAction<ButtonAction>>(new RegExp(`^${ACTION.decidePrefix.replace(/\./g, '\\.')}`), async ({ ack, body, action }) => {
    await ack();
    const target = parseDecisionValue(action.value);
    const identity = await directory.identify(body.user.id, body.user.username ?? body.user.name);
    let answer: Reply;
    if (!target) {
      answer = { text: ':warning: This button is malformed; use the pinned card of the incident channel.' };
    } else if (!allowed(identity, 'decide')) {
      answer = await refuse(identity, 'decide', target.incidentId, `action:${ACTION.decidePrefix}${target.stepId}`);
    } else {
      // The workflow's validator refuses those below the step's approver, and the service audits the refusal.
      try {
        await incidents.decide(
          target.incidentId,
          target.stepId,
          target.option,
          context(identity, `action:${ACTION.decidePrefix}${target.stepId}`, clickKey(body, action)),
        );
        answer = {
          text: `:heavy_check_mark: You chose *${escapeText(target.option)}* for \`${target.stepId}\` on *${target.incidentId}*.`,
        };
      } catch (error) {
        answer = describe(error, `decide \`${target.stepId}\``);
      }
    }
    await reply({ responseUrl: body.response_url, user: body.user.id }, answer);
  });

  app.action<BlockAction<ButtonAction>>(ACTION.addNote, async ({ ack, body, action }) => {
    await ack();
    const identity = await directory.identify(body.user.id, body.user.username ?? body.user.name);
    const incidentId = action.value ?? '';
    let answer: Reply | null = null;
    if (!allowed(identity, 'note')) {
      answer = await refuse(identity, 'note', incidentId, `action:${ACTION.addNote}`);
    } else {
      try {
        const metadata: ModalMetadata = {
          incidentId,
          ...(body.response_url ? { responseUrl: body.response_url } : {}),
          ...(body.channel?.id ? { channel: body.channel.id } : {}),
        };
        await gateway.call(
          'views.open',
          { trigger_id: body.trigger_id, view: noteModal({ incidentId, privateMetadata: JSON.stringify(metadata) }) },
          { channel: 'views', maxWaitMs: 0 },
        );
      } catch (error) {
        answer = describe(error, 'open the note form');
      }
    }
    if (answer) await reply({ responseUrl: body.response_url, user: body.user.id }, answer);
  });

  // Link buttons still send block_actions; Slack shows an error unless they are acknowledged.
  app.action(ACTION.open, async ({ ack }) => {
    await ack();
  });
  app.action('fireline_page_open_incident', async ({ ack }) => {
    await ack();
  });

  // --- the declaration form ----------------------------------------------------------------------------------

  function value(
    values: Record<string, Record<string, ViewStateValue>>,
    spec: { block: string; action: string },
  ): ViewStateValue | undefined {
    return values[spec.block]?.[spec.action];
  }

  function formState(values: Record<string, Record<string, ViewStateValue>>): DeclareFormState {
    const likelihood = LikelihoodSchema.safeParse(value(values, DECLARE.likelihood)?.selected_option?.value);
    const impact = ImpactSchema.safeParse(value(values, DECLARE.impact)?.selected_option?.value);
    const runbook = value(values, DECLARE.runbook)?.selected_option?.value;
    return {
      ...(runbook ? { runbook } : {}),
      ...(likelihood.success ? { likelihood: likelihood.data } : {}),
      ...(impact.success ? { impact: impact.data } : {}),
    };
  }

  // Choosing a runbook, a likelihood or an impact redraws the form with the severity they give.
  app.action<BlockAction<StaticSelectAction>>(
    new RegExp(
      `^(${[DECLARE.runbook.action, DECLARE.likelihood.action, DECLARE.impact.action].map((a) => a.replace(/\./g, '\\.')).join('|')})$`,
    ),
    async ({ ack, body, action }) => {
      await ack();
      const view = body.view;
      if (!view) return;
      const state = formState(view.state.values as Record<string, Record<string, ViewStateValue>>);
      const chosen = action.selected_option?.value;
      if (action.action_id === DECLARE.runbook.action && chosen) state.runbook = chosen;
      const likelihood = LikelihoodSchema.safeParse(chosen);
      if (action.action_id === DECLARE.likelihood.action && likelihood.success) state.likelihood = likelihood.data;
      const impact = ImpactSchema.safeParse(chosen);
      if (action.action_id === DECLARE.impact.action && impact.success) state.impact = impact.data;
      try {
        const updated = declareModal({ runbooks: await runbookChoices(), state, privateMetadata: view.private_metadata });
        await gateway.call('views.update', { view_id: view.id, hash: view.hash, view: updated }, { channel: 'views', maxWaitMs: 0 });
      } catch (error) {
        // hash_conflict: the user changed the form again meanwhile; that change redraws it.
        const failure = toSlackCallError(error, 'views.update');
        if (failure.slackError !== 'hash_conflict') logger.warn({ err: failure.message }, 'slack: could not redraw the declaration form');
      }
    },
  );

  app.view(VIEW.declare, async ({ ack, body, view }) => {
    const values = view.state.values as Record<string, Record<string, ViewStateValue>>;
    const state = formState(values);
    const input: DeclareIncidentInput | Record<string, unknown> = {
      title: value(values, DECLARE.title)?.value ?? '',
      runbook: state.runbook ?? '',
      ...(value(values, DECLARE.service)?.value ? { service: value(values, DECLARE.service)!.value! } : {}),
      ...(state.likelihood ? { likelihood: state.likelihood } : {}),
      ...(state.impact ? { impact: state.impact } : {}),
      ...(value(values, DECLARE.summary)?.value ? { summary: value(values, DECLARE.summary)!.value! } : {}),
      ...((value(values, DECLARE.drill)?.selected_options ?? []).some((o) => o.value === DRILL_VALUE) ? { drill: true } : {}),
    };
    const errors: Record<string, string> = {};
    const parsed = DeclareIncidentSchema.safeParse(input);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const field = String(issue.path[0] ?? 'title');
        const block = field in DECLARE ? DECLARE[field as keyof typeof DECLARE].block : DECLARE.title.block;
        errors[block] ??= issue.message;
      }
    }
    if (state.runbook && !errors[DECLARE.runbook.block] && !(await deps.runbooks.get(state.runbook)))
      errors[DECLARE.runbook.block] = `runbook "${state.runbook}" cannot be used right now (missing or broken)`;
    if (Object.keys(errors).length) {
      await ack({ response_action: 'errors', errors });
      return;
    }
    await ack();
    const metadata = parseMetadata(view.private_metadata);
    const identity = await directory.identify(body.user.id, body.user.name);
    const answer = allowed(identity, 'declare')
      ? await declare(identity, input as Record<string, unknown>, `view:${VIEW.declare}`, `view:${view.id}`)
      : await refuse(identity, 'declare', null, `view:${VIEW.declare}`);
    await reply({ ...(metadata.responseUrl ? { responseUrl: metadata.responseUrl } : {}), user: body.user.id }, answer);
  });

  app.view(VIEW.note, async ({ ack, body, view }) => {
    const text = (view.state.values[NOTE_INPUT.block]?.[NOTE_INPUT.action]?.value ?? '').trim();
    if (!text) {
      await ack({ response_action: 'errors', errors: { [NOTE_INPUT.block]: 'the note is empty' } });
      return;
    }
    await ack();
    const metadata = parseMetadata(view.private_metadata);
    const identity = await directory.identify(body.user.id, body.user.name);
    const answer = metadata.incidentId
      ? await steer(identity, 'note', metadata.incidentId, `view:${VIEW.note}`, `view:${view.id}`, text)
      : { text: ':warning: This form lost track of its incident; use `/incident note INC-n <text>`.' };
    await reply({ ...(metadata.responseUrl ? { responseUrl: metadata.responseUrl } : {}), user: body.user.id }, answer);
  });

  // --- notes by reaction ---------------------------------------------------------------------------------------

  async function messageAt(channel: string, ts: string): Promise<{ text?: string; user?: string; bot_id?: string } | undefined> {
    type Found = { messages?: { ts?: string; text?: string; user?: string; bot_id?: string }[] };
    const history = await gateway.call<Found>(
      'conversations.history',
      { channel, latest: ts, oldest: ts, inclusive: true, limit: 1 },
      { channel, maxWaitMs: 10_000 },
    );
    const top = history.messages?.find((m) => m.ts === ts);
    if (top) return top;
    // A reply in a thread is not in the channel's history.
    const replies = await gateway
      .call<Found>('conversations.replies', { channel, ts, limit: 1, inclusive: true }, { channel, maxWaitMs: 10_000 })
      .catch(() => ({ messages: [] }) as Found);
    return replies.messages?.find((m) => m.ts === ts);
  }

  app.event('reaction_added', async ({ event }) => {
    if (event.reaction !== deps.noteReaction || event.item.type !== 'message') return;
    const { channel, ts } = event.item;
    const row = await store.findSlackIncidentByChannel(channel);
    if (!row) return;
    const identity = await directory.identify(event.user);
    const tell = async (text: string) => {
      await gateway
        .call('chat.postEphemeral', { channel, user: event.user, text }, { channel, maxWaitMs: 10_000 })
        .catch((error: unknown) => {
          logger.warn({ err: (error as Error).message }, 'slack: could not tell the user about their note');
        });
    };
    if (!allowed(identity, 'note')) {
      await tell((await refuse(identity, 'note', row.incidentId, `reaction:${deps.noteReaction}`)).text);
      return;
    }
    try {
      const message = await messageAt(channel, ts);
      if (!message?.text || message.bot_id) return;
      const author = message.user && message.user !== event.user ? (await directory.identify(message.user)).actor.name : null;
      const note = truncate(author ? `${message.text} — ${author}` : message.text, MAX_NOTE_LENGTH);
      // One note per message however many people react, and however often Slack retries the event.
      await incidents.addNote(row.incidentId, note, context(identity, `reaction:${deps.noteReaction}`, `reaction:${channel}:${ts}`));
    } catch (error) {
      await tell(describe(error, `add the note to ${row.incidentId}`).text);
    }
  });
}
