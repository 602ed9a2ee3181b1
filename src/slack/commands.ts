import { IncidentIdSchema } from '../domain/incident';
import type { Severity } from '../domain/severity';

/** What `/incident <text>` asks for. `incidentId` absent = the incident of the channel the command was typed in. */
export type IncidentCommand =
  | { kind: 'help' }
  | { kind: 'declare-form' }
  | { kind: 'declare'; title: string; severity?: Severity; runbook?: string; drill: boolean }
  | { kind: 'run'; runbook: string; title?: string; drill: boolean }
  | { kind: 'list' }
  | { kind: 'status'; incidentId?: string }
  | { kind: 'ack'; incidentId?: string }
  | { kind: 'escalate'; incidentId?: string; reason?: string }
  | { kind: 'resolve'; incidentId?: string; summary?: string }
  | { kind: 'note'; incidentId?: string; text: string }
  | { kind: 'invalid'; message: string };

const SEVERITY = /^sev([1-4])$/i;
const RUNBOOK_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

export const HELP_TEXT = [
  '*Fireline* — `/incident <subcommand>`',
  '• `declare` — open the declaration form (title, runbook, service, likelihood × impact, summary, drill)',
  '• `declare sev1 <title>` — declare at once (runbook `triage` unless `--runbook <id>`; `--drill` for an exercise)',
  '• `run <runbook> [--drill] [title]` — launch a runbook, for real or as a drill',
  '• `list` — open incidents',
  '• `status [INC-n]` — where an incident stands (default: this channel’s incident)',
  '• `ack [INC-n]` — acknowledge: stops further pages',
  '• `escalate [INC-n] [reason]` — page the next escalation level now',
  '• `resolve [INC-n] [summary]` — resolve (commanders)',
  '• `note [INC-n] <text>` — add a note to the timeline (or react to a message in the incident channel with the note emoji)',
  '• `help` — this text',
].join('\n');

/** Splits off `--flag` / `--flag value` / `--flag=value` options; the rest stays in order. */
function options(words: string[], valued: readonly string[]): { rest: string[]; flags: Map<string, string | true>; problem?: string } {
  const rest: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(word);
    if (!match) {
      rest.push(word);
      continue;
    }
    const name = match[1]!;
    if (valued.includes(name)) {
      const value = match[2] ?? words[++i];
      if (!value) return { rest, flags, problem: `--${name} needs a value` };
      flags.set(name, value);
    } else if (match[2] === undefined && name === 'drill') {
      flags.set(name, true);
    } else {
      return { rest, flags, problem: `unknown option --${name}` };
    }
  }
  return { rest, flags };
}

/** The word as an incident id (typed in any case), else undefined. */
function incidentIdIn(word: string | undefined): string | undefined {
  const parsed = IncidentIdSchema.safeParse(word?.toUpperCase());
  return parsed.success ? parsed.data : undefined;
}

function takeIncident(words: string[]): { incidentId?: string; rest: string[] } {
  const incidentId = incidentIdIn(words[0]);
  return incidentId ? { incidentId, rest: words.slice(1) } : { rest: words };
}

/** The text after the subcommand (and an incident id), with its line breaks and spacing kept. */
function freeText(input: string): { incidentId?: string; text?: string } {
  const after = input.trim().replace(/^\S+\s*/, '');
  const match = /^(\S+)(?:\s+|$)([\s\S]*)$/.exec(after);
  const incidentId = incidentIdIn(match?.[1]);
  const body = (incidentId ? match![2]! : after).trim();
  return { ...(incidentId ? { incidentId } : {}), ...(body ? { text: body } : {}) };
}

function text(words: string[]): string | undefined {
  const joined = words.join(' ').trim();
  return joined === '' ? undefined : joined;
}

export function parseIncidentCommand(input: string): IncidentCommand {
  const words = input
    .trim()
    .split(/\s+/)
    .filter((w) => w !== '');
  const sub = (words[0] ?? 'help').toLowerCase();
  const args = words.slice(1);
  switch (sub) {
    case 'help':
      return { kind: 'help' };
    case 'declare': {
      if (args.length === 0) return { kind: 'declare-form' };
      const parsed = options(args, ['runbook']);
      if (parsed.problem)
        return { kind: 'invalid', message: `${parsed.problem}. Usage: \`/incident declare [sev1-4] <title> [--runbook <id>] [--drill]\`` };
      let rest = parsed.rest;
      let severity: Severity | undefined;
      const sev = rest[0] ? SEVERITY.exec(rest[0]) : null;
      if (sev) {
        severity = `SEV${sev[1]}` as Severity;
        rest = rest.slice(1);
      }
      const title = text(rest);
      if (!title)
        return {
          kind: 'invalid',
          message: 'Give the incident a title: `/incident declare sev1 Checkout failing` (or `/incident declare` for the form).',
        };
      const runbook = parsed.flags.get('runbook');
      if (typeof runbook === 'string' && !RUNBOOK_ID.test(runbook))
        return { kind: 'invalid', message: `"${runbook}" is not a runbook id (lowercase letters, digits and dashes).` };
      return {
        kind: 'declare',
        title,
        ...(severity ? { severity } : {}),
        ...(typeof runbook === 'string' ? { runbook } : {}),
        drill: parsed.flags.get('drill') === true,
      };
    }
    case 'run': {
      const parsed = options(args, []);
      if (parsed.problem) return { kind: 'invalid', message: `${parsed.problem}. Usage: \`/incident run <runbook> [--drill] [title]\`` };
      const [runbook, ...rest] = parsed.rest;
      if (!runbook)
        return { kind: 'invalid', message: 'Which runbook? `/incident run <runbook> [--drill] [title]`; `/incident declare` lists them.' };
      if (!RUNBOOK_ID.test(runbook))
        return { kind: 'invalid', message: `"${runbook}" is not a runbook id (lowercase letters, digits and dashes).` };
      const title = text(rest);
      return { kind: 'run', runbook, ...(title ? { title } : {}), drill: parsed.flags.get('drill') === true };
    }
    case 'list':
      return { kind: 'list' };
    case 'status':
    case 'ack':
    case 'acknowledge': {
      const { incidentId, rest } = takeIncident(args);
      if (rest.length)
        return { kind: 'invalid', message: `\`/incident ${sub}\` takes at most an incident id such as INC-12, not "${rest.join(' ')}".` };
      const kind = sub === 'status' ? 'status' : 'ack';
      return incidentId ? { kind, incidentId } : { kind };
    }
    case 'escalate': {
      const { incidentId, text: reason } = freeText(input);
      return { kind: 'escalate', ...(incidentId ? { incidentId } : {}), ...(reason ? { reason } : {}) };
    }
    case 'resolve': {
      const { incidentId, text: summary } = freeText(input);
      return { kind: 'resolve', ...(incidentId ? { incidentId } : {}), ...(summary ? { summary } : {}) };
    }
    case 'note': {
      const { incidentId, text: note } = freeText(input);
      if (!note) return { kind: 'invalid', message: 'What should the note say? `/incident note [INC-n] <text>`' };
      return { kind: 'note', ...(incidentId ? { incidentId } : {}), text: note };
    }
    default:
      return { kind: 'invalid', message: `Unknown subcommand "${sub.slice(0, 40)}". Try \`/incident help\`.` };
  }
}
