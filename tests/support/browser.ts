// Browser tests drive Debian's Chromium through playwright-core (never a downloaded browser), and the page
// tests and API tests share a way to put realistic incidents straight into the read model.
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import type { IncidentPhase, IncidentRecord, IncidentStatus } from '../../src/domain/incident';
import type { Actor } from '../../src/domain/roles';
import type { Severity } from '../../src/domain/severity';
import type { TimelineEvent, TimelineEventType } from '../../src/domain/timeline';
import type { AlertRecord, Store } from '../../src/store/store';
import { formatIncidentId, incidentWorkflowId } from '../../src/temporal/ids';

export const CHROMIUM_PATH = process.env.FIRELINE_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];
export const SCREENSHOT_DIR = path.join(__dirname, '..', 'artifacts', 'screenshots');
export const MISSING_CHROMIUM = `Chromium is not installed at ${CHROMIUM_PATH}: install it with \`apt-get install -y chromium\` (or set FIRELINE_CHROMIUM)`;

export function chromiumAvailable(): boolean {
  try {
    fs.accessSync(CHROMIUM_PATH, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * How a browser test file starts: with Chromium, its tests run; without it they fail with a clear message on
 * CI (CI=true) and are skipped, by name, elsewhere.
 */
export function browserSuite(name: string, body: () => void): void {
  if (chromiumAvailable()) {
    describe(name, body);
  } else if (process.env.CI === 'true') {
    test(`${name}: Chromium is required on CI`, () => {
      throw new Error(MISSING_CHROMIUM);
    });
  } else {
    describe.skip(`${name} (skipped: ${MISSING_CHROMIUM})`, body);
  }
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}

/** Saves a full-page screenshot as tests/artifacts/screenshots/<name>.png (gitignored). */
export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

// ---- Seeded incidents ----

const RUNBOOK_ACTOR: Actor = { id: 'runbook', name: 'Runbook', role: 'admin' };
const MONITORING: Actor = { id: 'monitoring', name: 'Monitoring', role: 'responder' };
const COMMANDER: Actor = { id: 'token:seed-commander', name: 'Sam Seed', role: 'commander' };

/** An incident as the workflow would have left it; times are milliseconds after the declaration. */
export interface SeedSpec {
  title: string;
  runbook?: string;
  service?: string | null;
  severity?: Severity;
  declaredAt: Date | string;
  drill?: boolean;
  /** Alerts that started this long before the declaration (impact start). */
  alertLeadMs?: number;
  /** First notification (reported). */
  reportMs?: number;
  /** A page to a person, as the paging step records it. */
  pageMs?: number;
  ackMs?: number;
  /** Every alert resolved (mitigated). */
  clearMs?: number;
  resolveMs?: number;
  /** Closed after the retrospective. */
  closeMs?: number;
  notes?: { atMs: number; text: string }[];
  /** Where an unresolved incident is (default decide). */
  phase?: (typeof PHASES)[number];
  /** Step boundaries added to reach a realistic event count. */
  fillerSteps?: number;
}

export interface SeededIncident {
  incident: IncidentRecord;
  events: TimelineEvent[];
  alerts: AlertRecord[];
}

const PHASES = ['detect', 'report', 'decide', 'execute', 'recover', 'retrospective'] as const;

/** The incident row, its timeline (ordered, seq from 1) and alerts for `spec`, without writing anything. */
export function buildIncident(id: string, spec: SeedSpec): SeededIncident {
  const t0 = new Date(spec.declaredAt).getTime();
  const iso = (ms: number) => new Date(t0 + ms).toISOString();
  const end = spec.closeMs ?? spec.resolveMs ?? Math.max(spec.ackMs ?? 0, spec.reportMs ?? 0, spec.clearMs ?? 0, 1000);
  // Phase boundaries spread over the incident's life: report by the first notification, recover by mitigation.
  const report = spec.reportMs ?? Math.round(end * 0.05);
  const recoverEnd = spec.clearMs ?? spec.resolveMs ?? end;
  const bounds = [
    0,
    Math.max(1, Math.round(report * 0.5)),
    report + 1,
    Math.round(report + (recoverEnd - report) * 0.4),
    Math.round(report + (recoverEnd - report) * 0.7),
    recoverEnd,
    spec.closeMs ?? end,
  ];
  const status: IncidentStatus =
    spec.closeMs !== undefined ? 'closed' : spec.resolveMs !== undefined ? 'resolved' : spec.ackMs !== undefined ? 'acknowledged' : 'open';
  const lastPhase = status === 'closed' || status === 'resolved' ? PHASES.length - 1 : PHASES.indexOf(spec.phase ?? 'decide');
  const raw: { at: number; type: TimelineEventType; phase: IncidentPhase; actor: Actor; summary: string; data: Record<string, unknown> }[] =
    [];
  const phaseAt = (ms: number): IncidentPhase => {
    for (let i = lastPhase; i >= 0; i--) if (ms >= bounds[i]!) return PHASES[i]!;
    return 'detect';
  };
  const push = (ms: number, type: TimelineEventType, summary: string, data: Record<string, unknown> = {}, actor: Actor = RUNBOOK_ACTOR) =>
    raw.push({ at: ms, type, phase: phaseAt(ms), actor, summary, data });

  push(
    0,
    'incident.declared',
    `Declared "${spec.title}" (${spec.severity ?? 'SEV3'}) with runbook ${spec.runbook ?? 'flow'}`,
    { runbook: spec.runbook ?? 'flow', drill: spec.drill ?? false, trigger: spec.alertLeadMs !== undefined ? 'alert' : 'manual' },
    spec.alertLeadMs !== undefined ? MONITORING : COMMANDER,
  );
  for (let i = 0; i <= lastPhase; i++) {
    const phase = PHASES[i]!;
    raw.push({ at: bounds[i]!, type: 'phase.entered', phase, actor: RUNBOOK_ACTOR, summary: `Entered ${phase}`, data: { phase } });
    const left = i < lastPhase ? bounds[i + 1]! : i === PHASES.length - 1 && spec.closeMs !== undefined ? spec.closeMs : undefined;
    if (left !== undefined)
      raw.push({
        at: Math.max(bounds[i]!, left),
        type: 'phase.completed',
        phase,
        actor: RUNBOOK_ACTOR,
        summary: `Completed ${phase}`,
        data: { phase, interrupted: false },
      });
  }
  if (spec.alertLeadMs !== undefined) push(0, 'alert.fired', `Alert firing: ${spec.title}`, { fingerprint: `fp-${id}` }, MONITORING);
  if (spec.reportMs !== undefined)
    push(spec.reportMs, 'notification.sent', 'Notified #incidents via slack', { stepId: 'announce', via: 'slack', to: '#incidents' });
  if (spec.pageMs !== undefined)
    push(spec.pageMs, 'page.sent', 'Paged Dana On-call by email (level 1)', {
      stepId: 'page',
      level: 1,
      person: 'dana',
      channel: 'email',
      via: 'email',
    });
  if (spec.ackMs !== undefined) push(spec.ackMs, 'incident.acknowledged', `Acknowledged by ${COMMANDER.name}`, {}, COMMANDER);
  if (spec.clearMs !== undefined)
    push(spec.clearMs, 'alerts.all_resolved', 'Every alert of this incident has resolved', { alerts: 1 }, MONITORING);
  if (spec.resolveMs !== undefined) push(spec.resolveMs, 'incident.resolved', 'Resolved: fixed', { summary: 'fixed' }, COMMANDER);
  for (const note of spec.notes ?? []) push(note.atMs, 'note.added', note.text, {}, COMMANDER);
  for (let i = 0; i < (spec.fillerSteps ?? 0); i++) {
    const at = Math.round(((i + 0.5) / (spec.fillerSteps ?? 1)) * end);
    push(at, 'step.started', `notify step-${i}`, { stepId: `step-${i}`, kind: 'notify' });
  }
  if (spec.closeMs !== undefined) push(spec.closeMs, 'incident.closed', 'Closed after the retrospective', {});
  raw.sort((a, b) => a.at - b.at);
  const events: TimelineEvent[] = raw.map((e, i) => ({
    id: `${id}:${i + 1}`,
    incidentId: id,
    seq: i + 1,
    at: iso(e.at),
    type: e.type,
    phase: e.phase,
    actor: e.actor,
    summary: e.summary,
    data: e.data,
  }));

  const phase: IncidentPhase = status === 'closed' ? 'closed' : PHASES[lastPhase]!;
  const incident: IncidentRecord = {
    id,
    title: spec.title,
    service: spec.service === undefined ? 'checkout' : spec.service,
    severity: spec.severity ?? 'SEV3',
    summary: null,
    drill: spec.drill ?? false,
    trigger: { kind: spec.alertLeadMs !== undefined ? 'alert' : 'manual', by: spec.alertLeadMs !== undefined ? MONITORING : COMMANDER },
    declaredAt: iso(0),
    runbookId: spec.runbook ?? 'flow',
    runbookVersion: 'seeded0000000000',
    workflowId: incidentWorkflowId(id),
    status,
    phase,
    acknowledgedAt: spec.ackMs === undefined ? null : iso(spec.ackMs),
    resolvedAt: spec.resolveMs === undefined ? null : iso(spec.resolveMs),
    closedAt: spec.closeMs === undefined ? null : iso(spec.closeMs),
    updatedAt: events.at(-1)!.at,
  };
  const alerts: AlertRecord[] =
    spec.alertLeadMs === undefined
      ? []
      : [
          {
            incidentId: id,
            fingerprint: `fp-${id}`,
            startsAt: iso(-spec.alertLeadMs),
            status: spec.clearMs !== undefined ? 'resolved' : 'firing',
            endsAt: spec.clearMs !== undefined ? iso(spec.clearMs) : null,
            summary: `${spec.title} (alert)`,
            labels: { alertname: 'HighErrorRate', service: spec.service ?? 'checkout' },
            source: 'alertmanager',
            received: 3,
            firstSeen: iso(0),
            lastSeen: iso(Math.max(0, spec.clearMs ?? 0)),
          },
        ];
  return { incident, events, alerts };
}

/** Writes a seeded incident through the store's own methods, under a fresh incident number. */
export async function seedIncident(store: Store, spec: SeedSpec): Promise<SeededIncident> {
  const id = formatIncidentId(await store.allocateIncidentNumber());
  const seeded = buildIncident(id, spec);
  await store.insertIncident(seeded.incident);
  await store.appendTimeline(seeded.events);
  if (seeded.alerts.length) await store.upsertAlerts(seeded.alerts);
  return seeded;
}

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;
