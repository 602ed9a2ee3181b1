/** Text for timeline details and failure messages: bounded, one line, secrets masked. */

/**
 * An error's message without relying on `instanceof Error`: errors from Node's own modules come from another
 * realm under jest, and libraries sometimes throw plain objects.
 */
export function errorMessage(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Timeline details are one line, of bounded length. */
export function oneLine(text: string, max = 500): string {
  return truncate(text.replace(/\s*\n\s*/g, ' ').trim(), max);
}

export function quote(text: string): string {
  return JSON.stringify(text);
}

export function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : ms >= 1000 ? `${(ms / 1000).toFixed(1)}s` : `${ms}ms`;
}
