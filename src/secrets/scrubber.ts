/**
 * Remembers values that must never be shown (tokens, passwords, signing secrets) and masks them wherever they
 * turn up in a text: a detail, an error message, a log line. Masking by value catches what no field name can:
 * a secret inside a URL, an upstream error that echoes it, a command's output.
 */
export class Scrubber {
  private readonly values = new Set<string>();
  /** Longest first, so a value containing another is masked whole; rebuilt on add, read on every scrub. */
  private ordered: string[] = [];

  add(...values: (string | undefined)[]): void {
    const before = this.values.size;
    for (const value of values) {
      // Very short values ("1", "on") would mask ordinary words; they are not secrets worth the noise.
      if (!value || value.length < 4) continue;
      this.values.add(value);
      const encoded = encodeURIComponent(value);
      if (encoded !== value) this.values.add(encoded);
      // As it appears inside a JSON string (a log line): quotes and backslashes escaped.
      const escaped = JSON.stringify(value).slice(1, -1);
      if (escaped !== value) this.values.add(escaped);
    }
    if (this.values.size !== before) this.ordered = [...this.values].sort((a, b) => b.length - a.length);
  }

  get size(): number {
    return this.values.size;
  }

  scrub(text: string): string {
    let out = text;
    for (const value of this.ordered) if (out.includes(value)) out = out.split(value).join('***');
    return out;
  }
}

/**
 * The secrets this process knows of: settings marked secret (src/config.ts), integration credentials and
 * targets' signing secrets as their files are loaded. Every logger made by createLogger masks them.
 */
export const processSecrets = new Scrubber();
