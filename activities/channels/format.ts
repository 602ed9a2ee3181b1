import { DRILL_PREFIX } from '../../src/domain/drill';
import { permanentFailure } from './errors';
import type { ChannelKind, PageMessage } from './types';

/** Idempotency keys travel in headers and metadata: printable, bounded. */
const KEY_PATTERN = /^[\x21-\x7e]{1,256}$/;

/** The subject with `[DRILL] ` in front during drills; never twice (callers may have added it already). */
export function drillSubject(subject: string, drill: boolean): string {
  const clean = oneHeaderLine(subject);
  return drill && !clean.startsWith(DRILL_PREFIX) ? `${DRILL_PREFIX} ${clean}` : clean;
}

/** Header-safe: control characters (CR/LF injection) become spaces. */
export function oneHeaderLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x1f\x7f]+/g, ' ').trim();
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** An absolute http(s) URL for the incident: relative paths resolve against the public URL. */
export function resolveIncidentUrl(channel: ChannelKind, incidentUrl: string, publicUrl: URL): string {
  let url: URL;
  try {
    url = new URL(incidentUrl, publicUrl);
  } catch {
    throw permanentFailure(channel, `the incident URL ${JSON.stringify(incidentUrl)} is not a valid URL`);
  }
  // Anything else (javascript:, data:) would become a live link in an email or a Slack button.
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw permanentFailure(channel, `the incident URL must be http or https, not ${url.protocol}`);
  return url.toString();
}

/** Checks what every channel relies on; a bad message is the caller's bug, and retrying cannot fix it. */
export function checkMessage(channel: ChannelKind, message: PageMessage): void {
  if (!KEY_PATTERN.test(message.idempotencyKey)) {
    throw permanentFailure(channel, 'the idempotency key must be 1 to 256 printable ASCII characters without spaces');
  }
  if (message.to.trim() === '') throw permanentFailure(channel, 'the page has no recipient');
}

/** Parses a configured public URL (FIRELINE_PUBLIC_URL); a bad one is a start-up error, not a page failure. */
export function parsePublicUrl(publicUrl: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(publicUrl);
  } catch {
    throw new Error(`${what}: publicUrl ${JSON.stringify(publicUrl)} is not a valid URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`${what}: publicUrl must be http or https`);
  return url;
}
