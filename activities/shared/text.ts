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

/** Remembers resolved values that must not appear in a detail or error message, and masks them. */
export class Scrubber {
  private readonly values = new Set<string>();

  add(...values: (string | undefined)[]): void {
    for (const value of values) {
      // Very short values ("1", "on") would mask ordinary words; they are not secrets worth the noise.
      if (value && value.length >= 4) {
        this.values.add(value);
        const encoded = encodeURIComponent(value);
        if (encoded !== value) this.values.add(encoded);
      }
    }
  }

  scrub(text: string): string {
    let out = text;
    // Longest first, so a value containing another is masked whole.
    for (const value of [...this.values].sort((a, b) => b.length - a.length)) out = out.split(value).join('***');
    return out;
  }
}
