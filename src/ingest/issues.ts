import type { z } from 'zod';

/** One thing wrong with an inbound payload, named by its path (`alerts.0.status`). */
export interface PayloadIssue {
  path: string;
  message: string;
}

/** What every receiver's parser answers: the normalised value, or every problem found (capped). */
export type Parsed<T> = { ok: true; value: T } | { ok: false; issues: PayloadIssue[] };

/** A hostile body can fail in thousands of places; the first few are enough to fix it. */
export const MAX_REPORTED_ISSUES = 20;

export function pathOf(path: readonly PropertyKey[]): string {
  return path.map(String).join('.') || '(body)';
}

function messageOf(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && /received undefined$/.test(issue.message))
    return `missing required field (expected ${issue.expected})`;
  return issue.message;
}

export function issuesFromZod(error: z.ZodError, max = MAX_REPORTED_ISSUES): PayloadIssue[] {
  return error.issues.slice(0, max).map((issue) => ({ path: pathOf(issue.path), message: messageOf(issue) }));
}

export function describeIssues(issues: readonly PayloadIssue[]): string {
  return issues.map((i) => `${i.path}: ${i.message}`).join('; ');
}

export function fail<T>(path: string, message: string): Parsed<T> {
  return { ok: false, issues: [{ path, message }] };
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
