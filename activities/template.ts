import type { IncidentInfo } from '../src/domain/incident';

const SCOPED = /\$\{\s*([a-zA-Z]+)\.([a-zA-Z0-9_-]+)\s*\}/g;
const ENV_REF = /\$\{\s*([A-Z][A-Z0-9_]*)\s*\}/g;

export interface TemplateContext {
  incident: IncidentInfo;
  decisions: Record<string, string>;
  params?: Record<string, string>;
}

/**
 * Fills `${incident.title}`, `${decision.step}` and `${params.name}`. Unknown placeholders stay visible rather
 * than vanish, so an author sees the typo in the message instead of a silently shorter text.
 */
export function renderTemplate(template: string, context: TemplateContext): string {
  return template.replace(SCOPED, (whole, scope: string, key: string) => {
    if (scope === 'incident') {
      const value = (context.incident as unknown as Record<string, unknown>)[key];
      return value === null || value === undefined || typeof value === 'object' ? whole : String(value);
    }
    if (scope === 'decision') return context.decisions[key] ?? whole;
    if (scope === 'params') return context.params?.[key] ?? whole;
    return whole;
  });
}

export class MissingEnvError extends Error {
  constructor(readonly variable: string) {
    super(`${variable} is not set in Fireline's environment`);
    this.name = 'MissingEnvError';
  }
}

/**
 * Replaces `${ENV_VAR}` references (upper case) with the environment's values. Used only for targets (URLs,
 * headers, connection strings) and only inside activities, so resolved values never enter workflow history.
 */
export function resolveEnvRefs(text: string, env: Record<string, string | undefined>): string {
  return text.replace(ENV_REF, (_whole, name: string) => {
    const value = env[name];
    if (value === undefined || value === '') throw new MissingEnvError(name);
    return value;
  });
}

/** Both: runbook placeholders first, then environment references (for URLs, headers and request bodies). */
export function renderTarget(template: string, context: TemplateContext, env: Record<string, string | undefined>): string {
  return resolveEnvRefs(renderTemplate(template, context), env);
}
