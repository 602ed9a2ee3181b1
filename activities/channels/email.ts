import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import nodemailer from 'nodemailer';
import type { NodemailerError, SendMailOptions, SMTPPoolSentMessageInfo } from 'nodemailer';
import { activityCancellationSignal, throwIfCancelled } from '../shared/activity';
import { errorMessage, oneLine } from '../shared/text';
import { permanentFailure, temporaryFailure, uncertainFailure } from './errors';
import { checkMessage, drillSubject, escapeHtml, oneHeaderLine, parsePublicUrl, resolveIncidentUrl } from './format';
import type { PageChannel, PageDelivery, PageMessage } from './types';

export interface EmailTimeouts {
  /** TCP connect. Default 10 s. */
  connectionMs?: number;
  /** The server's 220 greeting after connecting. Default 10 s. */
  greetingMs?: number;
  /** Silence on an open connection (any command, including the answer to the final "."). Default 20 s. */
  socketMs?: number;
}

export interface EmailChannelOptions {
  /** `smtp://user:pass@host:587` (STARTTLS when offered) or `smtps://…:465`; nodemailer URL options allowed. */
  smtpUrl: string;
  /** From address, e.g. `Fireline <fireline@example.com>`. */
  from: string;
  /** Fireline's public URL: its host names the Message-IDs; relative incident URLs resolve against it. */
  publicUrl: string;
  /** Keep their sum well below the activity's startToCloseTimeout (60 s), so attempts never overlap. */
  timeouts?: EmailTimeouts;
  /** Pooled connections. Default 3. */
  maxConnections?: number;
}

export interface EmailChannel extends PageChannel {
  readonly kind: 'email';
  /** Connects and logs in once, for a start-up check; throws what nodemailer says. */
  verify(): Promise<void>;
}

export const DEFAULT_EMAIL_TIMEOUTS: Required<EmailTimeouts> = { connectionMs: 10_000, greetingMs: 10_000, socketMs: 20_000 };

/** The Message-ID of a page: the same for every attempt with the same idempotency key. */
export function emailMessageId(idempotencyKey: string, publicUrl: string | URL): string {
  const host = (typeof publicUrl === 'string' ? new URL(publicUrl) : publicUrl).hostname || 'fireline.invalid';
  return `<fireline.${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 32)}@${host}>`;
}

/** Deliberately simple: `local@domain` or `Name <local@domain>` per comma-separated entry (no commas in names). */
const ADDRESS = /^(?:[^<>@,;]*<[^\s<>@,;"]+@[^\s<>@,;"]+>|[^\s<>@,;"]+@[^\s<>@,;"]+)$/;

interface SendState {
  /** The message stream the connection reads; `readableEnded` = the whole message went out, "." follows. */
  stream?: Readable;
}

/**
 * Email pages over pooled SMTP (nodemailer).
 *
 * Delivery is at most once per idempotency key as far as SMTP allows: the Message-ID is derived from the key, the
 * pool never re-sends on its own (`maxRequeues: 0`: attempts belong to Temporal), and a failure after the whole
 * message was handed to the server but before its answer is `ChannelDeliveryUncertain` (non-retryable) rather than
 * a retry that could page twice. Failures before that point (connection refused, greeting timeout, 4xx) retry.
 */
export function createEmailChannel(options: EmailChannelOptions): EmailChannel {
  const publicUrl = parsePublicUrl(options.publicUrl, 'email channel');
  const timeouts = { ...DEFAULT_EMAIL_TIMEOUTS, ...options.timeouts };
  let server: string;
  try {
    server = new URL(options.smtpUrl).host;
  } catch {
    throw new Error('email channel: smtpUrl is not a valid URL (expected smtp://user:pass@host:port or smtps://…)');
  }
  if (!ADDRESS.test(options.from.trim()))
    throw new Error('email channel: from must be an email address, e.g. "Fireline <fireline@example.com>"');

  const transport = nodemailer.createTransport({
    url: options.smtpUrl,
    pool: true,
    maxConnections: options.maxConnections ?? 3,
    maxRequeues: 0,
    connectionTimeout: timeouts.connectionMs,
    greetingTimeout: timeouts.greetingMs,
    socketTimeout: timeouts.socketMs,
    dnsTimeout: timeouts.connectionMs,
    // Pages are built from incident data: never let content reach for files or URLs.
    disableFileAccess: true,
    disableUrlAccess: true,
    logger: false,
  });

  // Per-send state, keyed by the headers object nodemailer keeps by reference in mail.data.
  const states = new WeakMap<object, SendState>();
  transport.use('stream', (mail, done) => {
    const state = states.get(mail.data.headers as object);
    if (state) {
      mail.message.processFunc((input) => {
        state.stream = input;
        return input;
      });
    }
    done();
  });

  let closed = false;

  return {
    kind: 'email',

    async send(message: PageMessage): Promise<PageDelivery> {
      checkMessage('email', message);
      const to = message.to
        .split(',')
        .map((a) => a.trim())
        .filter((a) => a !== '');
      const bad = to.find((a) => !ADDRESS.test(a));
      if (bad !== undefined || to.length === 0)
        throw permanentFailure('email', `${JSON.stringify(bad ?? message.to)} is not an email address`, 'EADDRESS');
      if (closed) throw temporaryFailure('email', 'the email channel was closed (worker shutting down)', 'ECLOSED');
      const incidentUrl = resolveIncidentUrl('email', message.incidentUrl, publicUrl);
      const messageId = emailMessageId(message.idempotencyKey, publicUrl);
      const subject = drillSubject(message.subject, message.drill);

      const headers: Record<string, string> = {
        'X-Fireline-Idempotency-Key': message.idempotencyKey,
        // RFC 3834: no vacation replies to pages.
        'Auto-Submitted': 'auto-generated',
        'X-Auto-Response-Suppress': 'All',
      };
      if (message.drill) headers['X-Fireline-Drill'] = 'true';
      const state: SendState = {};
      states.set(headers, state);

      const cancel = activityCancellationSignal();
      const mail: SendMailOptions = {
        from: options.from,
        to,
        subject,
        messageId,
        headers,
        text: textBody(message, incidentUrl),
        html: htmlBody(message, subject, incidentUrl),
        ...(cancel ? { signal: cancel } : {}),
      };

      let info: SMTPPoolSentMessageInfo;
      try {
        info = await transport.sendMail(mail);
      } catch (error) {
        throwIfCancelled(cancel);
        throw classify(error as NodemailerError, state, server);
      }
      const rejected = info.rejected.map(String);
      if (rejected.length > 0) {
        // Some recipients got it: another attempt would page those twice.
        const reasons = (info.rejectedErrors ?? []).map((e) => oneLine(e.response ?? e.message, 120));
        throw permanentFailure(
          'email',
          `${server} refused ${rejected.join(', ')}${reasons.length ? ` (${reasons.join('; ')})` : ''}${info.accepted.length ? `; accepted ${info.accepted.map(String).join(', ')}` : ''}`,
          info.rejectedErrors?.[0]?.responseCode ?? 'EENVELOPE',
        );
      }
      return {
        providerId: info.serverMessageId ?? info.messageId,
        detail: oneLine(`${server} accepted ${messageId} for ${info.accepted.map(String).join(', ')}: ${info.response}`, 300),
      };
    },

    async verify(): Promise<void> {
      await transport.verify();
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      transport.close();
    },
  };
}

/** Turns what nodemailer threw into a channel failure. */
function classify(error: NodemailerError, state: SendState, server: string): Error {
  const code = error.responseCode ?? error.code ?? null;
  const what = oneLine(error.response ?? errorMessage(error), 240);
  const origin = error.originalCode ? ` (${error.originalCode})` : '';
  if (error.responseCode !== undefined) {
    // The server answered: its reply class decides (5xx permanent except 503; 4xx, 503 try again).
    if (error.permanent === true) return permanentFailure('email', `${server} refused the message: ${what}`, error.responseCode);
    return temporaryFailure('email', `${server} deferred the message: ${what}`, error.responseCode);
  }
  if (state.stream?.readableEnded) {
    // The whole message went out and the answer never came: the server may have it (RFC 1047).
    return uncertainFailure(
      'email',
      `${server} received the whole message but its answer never came (${what}${origin}); not retried to avoid a second page`,
      code,
    );
  }
  if (
    error.code === 'ENOAUTH' ||
    error.code === 'ECONFIG' ||
    error.code === 'EMAXRECIPIENTS' ||
    error.code === 'EURLACCESS' ||
    error.code === 'EFILEACCESS'
  ) {
    return permanentFailure('email', `email settings: ${what}`, error.code);
  }
  return temporaryFailure('email', `${server}: ${what}${origin}`, code);
}

function textBody(message: PageMessage, incidentUrl: string): string {
  const lines: string[] = [];
  if (message.drill) lines.push('DRILL: this is an exercise, not a real incident.', '');
  lines.push(message.text.trimEnd(), '', `Open the incident: ${incidentUrl}`, '', '-- ', 'Sent by Fireline paging.');
  return `${lines.join('\n')}\n`;
}

function htmlBody(message: PageMessage, subject: string, incidentUrl: string): string {
  const href = escapeHtml(incidentUrl);
  const body = message.html ?? `<p style="white-space:pre-wrap;margin:0 0 16px">${escapeHtml(message.text.trimEnd())}</p>`;
  const drill = message.drill
    ? '<p style="background:#fff3cd;border:1px solid #e0c36a;padding:8px;margin:0 0 16px"><strong>DRILL</strong>: this is an exercise, not a real incident.</p>'
    : '';
  return [
    '<!doctype html>',
    `<html><head><meta charset="utf-8"><title>${escapeHtml(oneHeaderLine(subject))}</title></head>`,
    '<body style="font-family:system-ui,sans-serif;font-size:15px;line-height:1.4">',
    drill,
    body,
    `<p><a href="${href}" style="display:inline-block;padding:8px 14px;background:#b3261e;color:#fff;text-decoration:none;border-radius:4px">Open the incident</a></p>`,
    `<p style="color:#666;font-size:12px">Or paste this link: ${href}<br>Sent by Fireline paging.</p>`,
    '</body></html>',
  ].join('\n');
}
