import type { IncidentRecord } from '../domain/incident';
import type { TimelineEvent } from '../domain/timeline';

const CSV_COLUMNS = ['seq', 'at', 'type', 'phase', 'actor', 'summary'] as const;

/** Quotes a CSV cell and defuses spreadsheet formulas (cells starting with = + - @). */
export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return `"${safe.replace(/"/g, '""')}"`;
}

export function timelineToCsv(events: TimelineEvent[]): string {
  const rows = events.map((e) => [String(e.seq), e.at, e.type, e.phase, e.actor.name, e.summary].map(csvCell).join(','));
  return [CSV_COLUMNS.join(','), ...rows].join('\r\n') + '\r\n';
}

function mdEscape(text: string): string {
  return text.replace(/([\\`*_{}[\]<>|])/g, '\\$1').replace(/\r?\n/g, ' ');
}

export function timelineToMarkdown(incident: IncidentRecord, events: TimelineEvent[]): string {
  const lines = [
    `# ${incident.id}: ${mdEscape(incident.title)}`,
    '',
    `- Severity: ${incident.severity}${incident.drill ? ' (drill)' : ''}`,
    `- Status: ${incident.status}, phase ${incident.phase}`,
    `- Runbook: ${incident.runbookId} (version ${incident.runbookVersion.slice(0, 12)})`,
    `- Declared: ${incident.declaredAt}`,
    '',
    '| # | time (UTC) | phase | event | actor | summary |',
    '| --- | --- | --- | --- | --- | --- |',
    ...events.map((e) => `| ${e.seq} | ${e.at} | ${e.phase} | ${e.type} | ${mdEscape(e.actor.name)} | ${mdEscape(e.summary)} |`),
  ];
  return lines.join('\n') + '\n';
}
