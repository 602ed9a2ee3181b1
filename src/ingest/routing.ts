import { z } from 'zod';
import { ALERT_SOURCES } from '../domain/alert';
import type { AlertEvent, AlertRoute, AlertSource } from '../domain/alert';
import { ImpactSchema, LikelihoodSchema, SeveritySchema, severityFromRisk } from '../domain/severity';
import type { Severity } from '../domain/severity';
import type { RunbookPath } from '../runbooks/check';
import { editDistance } from '../yaml/located';
import { parseYamlText, readYamlFile, sortProblems, zodProblems } from './yaml-config';
import type { At, ConfigProblem, YamlRead } from './yaml-config';

export { formatConfigProblem } from './yaml-config';

/**
 * config/routing.yaml: which runbook an alert starts, with which service and severity. Rules are tried in
 * order and the first match wins; an alert no rule matches goes to the `triage` runbook.
 */
export const TRIAGE_RUNBOOK = 'triage';
/** `AlertRoute.rule` of an alert no rule matched. */
export const UNMATCHED_RULE = '(unmatched)';
/** When neither a rule nor the sender says how bad it is (triage's own default). */
export const DEFAULT_ALERT_SEVERITY: Severity = 'SEV3';

const RuleNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'use letters, digits, ".", "_" and "-" (at most 100)');
const RunbookIdSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'expected a runbook id (lowercase letters, digits and dashes)');

/** `value` (equality; missing labels read as ""), or `{ regex }` (anchored, the whole value must match). */
const LabelMatcherSchema = z.union([
  z.string().max(1000),
  z.number().transform(String),
  z.boolean().transform(String),
  z.object({ regex: z.string().min(1).max(1000) }).strict(),
]);

const oneOrMany = <T extends z.ZodType>(schema: T) => z.union([schema, z.array(schema).min(1)]);

const MatchSchema = z
  .object({
    source: oneOrMany(z.enum(ALERT_SOURCES)).optional(),
    /** Integration ids from config/integrations.yaml. */
    integration: oneOrMany(z.string().min(1).max(63)).optional(),
    labels: z.record(z.string().min(1).max(1024), LabelMatcherSchema).optional(),
    /** The severity the sender's own severity maps to (critical → SEV1 …). */
    severity: oneOrMany(SeveritySchema).optional(),
  })
  .strict();

export const RoutingRuleSchema = z
  .object({
    name: RuleNameSchema,
    match: MatchSchema,
    runbook: RunbookIdSchema,
    service: z.string().min(1).max(100).optional(),
    severity: SeveritySchema.optional(),
    likelihood: LikelihoodSchema.optional(),
    impact: ImpactSchema.optional(),
  })
  .strict();

export const RoutingFileSchema = z.object({ rules: z.array(RoutingRuleSchema).default([]) }).strict();

interface LabelTest {
  name: string;
  equals?: string;
  regex?: RegExp;
}

/** A rule ready to match: sets and compiled regexes. */
export interface RoutingRule {
  name: string;
  sources: ReadonlySet<AlertSource> | null;
  integrations: ReadonlySet<string> | null;
  severities: ReadonlySet<Severity> | null;
  labels: readonly LabelTest[];
  runbook: string;
  service: string | null;
  /** From `severity`, or the risk matrix for `likelihood` × `impact`; null = the sender's severity decides. */
  severity: Severity | null;
}

export type LoadRoutingResult = { ok: true; rules: RoutingRule[]; warnings: ConfigProblem[] } | { ok: false; problems: ConfigProblem[] };

export interface RoutingOptions {
  /** Runbook ids that exist; when given, every rule's runbook (and `triage`) must be one of them. */
  runbookIds?: readonly string[];
}

const SENDER_SEVERITIES: Record<string, Severity> = {};
const severityWords: [Severity, string[]][] = [
  ['SEV1', ['critical', 'crit', 'page', 'fatal', 'emergency', 'emerg', 'disaster', 'p1', 'sev1', 'sev-1']],
  ['SEV2', ['error', 'err', 'high', 'major', 'p2', 'sev2', 'sev-2']],
  ['SEV3', ['warning', 'warn', 'medium', 'moderate', 'average', 'p3', 'sev3', 'sev-3']],
  ['SEV4', ['info', 'informational', 'low', 'minor', 'notice', 'none', 'p4', 'p5', 'sev4', 'sev-4']],
];
for (const [severity, words] of severityWords) for (const word of words) SENDER_SEVERITIES[word] = severity;

/**
 * The sender's severity in Fireline's terms: PagerDuty critical/error/warning/info → SEV1…SEV4, and the
 * usual words in an Alertmanager/Grafana `severity` label (critical/page → SEV1, error/high → SEV2,
 * warning → SEV3, info/low → SEV4, also P1…P4 and SEV1…SEV4). Unknown words → null.
 */
export function severityFromSender(text: string | null | undefined): Severity | null {
  const word = text?.trim().toLowerCase();
  return word && Object.hasOwn(SENDER_SEVERITIES, word) ? (SENDER_SEVERITIES[word] ?? null) : null;
}

function ruleMatches(rule: RoutingRule, alert: AlertEvent, senderSeverity: Severity | null): boolean {
  if (rule.sources && !rule.sources.has(alert.source)) return false;
  if (rule.integrations && !rule.integrations.has(alert.integration)) return false;
  if (rule.severities && (senderSeverity === null || !rule.severities.has(senderSeverity))) return false;
  for (const test of rule.labels) {
    const value = Object.hasOwn(alert.labels, test.name) ? (alert.labels[test.name] ?? '') : '';
    if (test.regex ? !test.regex.test(value) : value !== test.equals) return false;
  }
  return true;
}

/** First matching rule wins; no match → the triage runbook, with the sender's severity. */
export function routeAlert(rules: readonly RoutingRule[], alert: AlertEvent): AlertRoute {
  const senderSeverity = severityFromSender(alert.senderSeverity);
  for (const rule of rules) {
    if (ruleMatches(rule, alert, senderSeverity)) {
      return {
        rule: rule.name,
        runbook: rule.runbook,
        service: rule.service,
        severity: rule.severity ?? senderSeverity ?? DEFAULT_ALERT_SEVERITY,
      };
    }
  }
  const service = alert.labels.service?.trim();
  return {
    rule: UNMATCHED_RULE,
    runbook: TRIAGE_RUNBOOK,
    service: service ? service.slice(0, 100) : null,
    severity: senderSeverity ?? DEFAULT_ALERT_SEVERITY,
  };
}

/** Reads config/routing.yaml; a missing file means no rules (every alert goes to triage). */
export function loadRouting(file: string, options: RoutingOptions = {}): LoadRoutingResult {
  return compile(readYamlFile(file), options);
}

export function parseRouting(source: string | Uint8Array, file: string, options: RoutingOptions = {}): LoadRoutingResult {
  return compile(parseYamlText(source, file), options);
}

const asSet = <T>(value: T | T[] | undefined): ReadonlySet<T> | null =>
  value === undefined ? null : new Set(Array.isArray(value) ? value : [value]);

function compile(read: YamlRead, options: RoutingOptions): LoadRoutingResult {
  if (!read.ok) return read;
  const { data, at } = read;
  const problems: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];
  const runbooks = options.runbookIds ? new Set(options.runbookIds) : undefined;
  if (runbooks && !runbooks.has(TRIAGE_RUNBOOK)) {
    problems.push(at([], `there is no runbook "${TRIAGE_RUNBOOK}": alerts that match no rule are sent to it, so it must exist`));
  }
  const parsed = RoutingFileSchema.safeParse(data);
  if (!parsed.success) {
    problems.push(...zodProblems(parsed.error, RoutingFileSchema, data, at, 'a mapping with a `rules:` list'));
    return { ok: false, problems: sortProblems(problems) };
  }

  const names = new Map<string, number>();
  const rules: RoutingRule[] = [];
  let catchAll: string | undefined;
  parsed.data.rules.forEach((rule, index) => {
    const path: RunbookPath = ['rules', index];
    const earlier = names.get(rule.name);
    if (earlier !== undefined) problems.push(at([...path, 'name'], `rule name "${rule.name}" is already used by rules[${earlier}]`));
    else names.set(rule.name, index);
    if (runbooks && !runbooks.has(rule.runbook)) {
      const close = closest(rule.runbook, [...runbooks]);
      problems.push(at([...path, 'runbook'], `unknown runbook "${rule.runbook}"${close ? ` (did you mean "${close}"?)` : ''}`));
    }
    const severity = severityOfRule(rule, path, at, problems);
    const labels: LabelTest[] = [];
    for (const [name, matcher] of Object.entries(rule.match.labels ?? {})) {
      if (typeof matcher === 'string') {
        labels.push({ name, equals: matcher });
        continue;
      }
      const regex = compileAnchored(matcher.regex);
      if (regex instanceof Error)
        problems.push(at([...path, 'match', 'labels', name, 'regex'], `not a valid regular expression: ${regex.message}`));
      else labels.push({ name, regex });
    }
    if (catchAll) warnings.push(at(path, `never matches: rule "${catchAll}" before it matches every alert`));
    const compiled: RoutingRule = {
      name: rule.name,
      sources: asSet(rule.match.source),
      integrations: asSet(rule.match.integration),
      severities: asSet(rule.match.severity),
      labels,
      runbook: rule.runbook,
      service: rule.service ?? null,
      severity,
    };
    if (!catchAll && !compiled.sources && !compiled.integrations && !compiled.severities && labels.length === 0) catchAll = rule.name;
    rules.push(compiled);
  });
  if (problems.length > 0) return { ok: false, problems: sortProblems(problems) };
  return { ok: true, rules, warnings: sortProblems(warnings) };
}

function severityOfRule(rule: z.infer<typeof RoutingRuleSchema>, path: RunbookPath, at: At, problems: ConfigProblem[]): Severity | null {
  const risk = rule.likelihood !== undefined || rule.impact !== undefined;
  if (rule.severity && risk) {
    problems.push(at([...path, 'severity'], 'give either severity or likelihood and impact, not both'));
    return null;
  }
  if (rule.severity) return rule.severity;
  if (!risk) return null;
  if (!rule.likelihood || !rule.impact) {
    problems.push(at([...path, rule.likelihood ? 'likelihood' : 'impact'], 'likelihood and impact go together: give both'));
    return null;
  }
  return severityFromRisk({ likelihood: rule.likelihood, impact: rule.impact });
}

/** Anchored like Prometheus matchers: the whole value must match. */
export function compileAnchored(pattern: string): RegExp | Error {
  try {
    return new RegExp(`^(?:${pattern})$`);
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

function closest(word: string, candidates: string[]): string | undefined {
  let best: { word: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(word, candidate);
    if (distance <= 3 && (!best || distance < best.distance)) best = { word: candidate, distance };
  }
  return best?.word;
}
