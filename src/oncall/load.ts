import { DateTime } from 'luxon';
import { CHANNEL_ADDRESS, CHANNELS, EMPTY_ONCALL, type EscalationTarget, type OnCallConfig, OnCallConfigSchema } from '../domain/oncall';
import type { RunbookPath, RunbookProblem } from '../runbooks/check';
import { type At, formatProblem, type IssueWording, issueProblems, parseYaml, readYamlBytes, sortProblems } from '../yaml/located';

/** A problem in config/oncall.yaml, at the line and column of the YAML node it is about. */
export type OnCallProblem = RunbookProblem;

export type LoadOnCallResult = { ok: true; config: OnCallConfig } | { ok: false; problems: OnCallProblem[] };

/** `file:line:col: path: message`, as for runbooks and targets. */
export const formatOnCallProblem: (p: OnCallProblem) => string = formatProblem;

export class OnCallConfigError extends Error {
  constructor(readonly problems: OnCallProblem[]) {
    super(`config/oncall.yaml has problems:\n${problems.map((p) => `  ${formatOnCallProblem(p)}`).join('\n')}`);
    this.name = 'OnCallConfigError';
  }
}

/** `GET /api/v1/oncall/policies/:id` shares the path segment with schedule ids. */
const RESERVED_SCHEDULE_IDS = new Set(['policies']);

/**
 * Reads config/oncall.yaml. A missing file is an empty configuration (no people, schedules or policies):
 * runbooks that name a policy then fail their check with a clear message.
 */
export function loadOnCall(file: string): LoadOnCallResult {
  const read = readYamlBytes(file);
  if (!read.ok) return read;
  return read.bytes === undefined ? { ok: true, config: EMPTY_ONCALL } : parseOnCall(read.bytes, file);
}

/** The configuration, or an OnCallConfigError listing every problem as `file:line:col: path: message`. */
export function loadOnCallOrFail(file: string): OnCallConfig {
  const result = loadOnCall(file);
  if (!result.ok) throw new OnCallConfigError(result.problems);
  return result.config;
}

/** YAML text (or bytes) → a schema-valid configuration whose names all resolve, or every problem found. */
export function parseOnCall(source: string | Uint8Array, file: string): LoadOnCallResult {
  const fail = (problems: OnCallProblem[]): LoadOnCallResult => ({ ok: false, problems: sortProblems(problems) });
  const yaml = parseYaml(source, file);
  if (!yaml.ok) return fail(yaml.problems);
  const data = yaml.data ?? {};

  const parsed = OnCallConfigSchema.safeParse(data);
  if (!parsed.success) return fail(issueProblems(parsed.error, data, yaml.at, WORDING));
  const problems = semanticProblems(parsed.data, yaml.at);
  return problems.length > 0 ? fail(problems) : { ok: true, config: parsed.data };
}

const WORDING: IssueWording = {
  root: 'the file must be a mapping with people, schedules and escalationPolicies',
  schema: OnCallConfigSchema,
};

// --- Checks across sections -------------------------------------------------------------------------------

function duplicateIds(items: readonly { id: string }[], section: string, at: At): OnCallProblem[] {
  const first = new Map<string, number>();
  return items.flatMap((item, i) => {
    const earlier = first.get(item.id);
    if (earlier === undefined) {
      first.set(item.id, i);
      return [];
    }
    return [at([section, i, 'id'], `duplicate id "${item.id}" (also ${section}[${earlier}])`)];
  });
}

function semanticProblems(config: OnCallConfig, at: At): OnCallProblem[] {
  const problems: OnCallProblem[] = [
    ...duplicateIds(config.people, 'people', at),
    ...duplicateIds(config.schedules, 'schedules', at),
    ...duplicateIds(config.escalationPolicies, 'escalationPolicies', at),
  ];
  const people = new Set(config.people.map((p) => p.id));
  const schedules = new Set(config.schedules.map((s) => s.id));
  const knownPerson = (id: string, path: RunbookPath) => {
    if (!people.has(id)) problems.push(at(path, `unknown person "${id}" (people: ${[...people].join(', ') || 'none'})`));
  };

  for (const [i, person] of config.people.entries()) {
    if (!CHANNELS.some((c) => person[CHANNEL_ADDRESS[c]] !== undefined)) {
      problems.push(at(['people', i], `person "${person.id}" has no email, slack or webhook: nobody could page them`));
    }
    for (const [j, rule] of person.contact.entries()) {
      const address = CHANNEL_ADDRESS[rule.channel];
      if (person[address] === undefined)
        problems.push(at(['people', i, 'contact', j, 'channel'], `contact by ${rule.channel} needs "${address}" on the person`));
    }
  }

  for (const [i, schedule] of config.schedules.entries()) {
    if (RESERVED_SCHEDULE_IDS.has(schedule.id))
      problems.push(at(['schedules', i, 'id'], `"${schedule.id}" is reserved (it is a path in the API); choose another id`));
    for (const [j, layer] of schedule.layers.entries()) {
      for (const [k, member] of layer.members.entries()) knownPerson(member, ['schedules', i, 'layers', j, 'members', k]);
    }
    for (const [j, o] of schedule.overrides.entries()) {
      knownPerson(o.person, ['schedules', i, 'overrides', j, 'person']);
      const from = DateTime.fromISO(o.from, { zone: schedule.timeZone });
      const to = DateTime.fromISO(o.to, { zone: schedule.timeZone });
      if (from.isValid && to.isValid && to <= from)
        problems.push(at(['schedules', i, 'overrides', j, 'to'], `must be after from (${o.from})`));
    }
  }

  const checkTarget = (target: EscalationTarget, path: RunbookPath) => {
    if ('person' in target) knownPerson(target.person, [...path, 'person']);
    else if (!schedules.has(target.schedule)) {
      problems.push(at([...path, 'schedule'], `unknown schedule "${target.schedule}" (schedules: ${[...schedules].join(', ') || 'none'})`));
    }
  };
  for (const [i, policy] of config.escalationPolicies.entries()) {
    for (const [j, level] of policy.levels.entries()) {
      for (const [k, target] of level.targets.entries()) checkTarget(target, ['escalationPolicies', i, 'levels', j, 'targets', k]);
    }
    if (policy.fallback) checkTarget(policy.fallback, ['escalationPolicies', i, 'fallback']);
  }
  return problems;
}
