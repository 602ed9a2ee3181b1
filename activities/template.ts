import type { IncidentInfo } from '../src/domain/incident';

const PLACEHOLDER = /\$\{\s*([a-zA-Z]+)\.([a-zA-Z0-9_-]+)\s*\}/g;

/**
 * Fills `${incident.title}`-style placeholders. Unknown placeholders stay visible rather than vanish, so an
 * author sees the typo in the message instead of a silently shorter text.
 */
export function renderTemplate(
  template: string,
  context: { incident: IncidentInfo; decisions: Record<string, string> },
): string {
  return template.replace(PLACEHOLDER, (whole, scope: string, key: string) => {
    if (scope === 'incident') {
      const value = (context.incident as unknown as Record<string, unknown>)[key];
      return value === null || value === undefined || typeof value === 'object' ? whole : String(value);
    }
    if (scope === 'decision') return context.decisions[key] ?? whole;
    return whole;
  });
}
