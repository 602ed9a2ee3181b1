import type { AddressInfo, Socket } from 'node:net';
import { simpleParser } from 'mailparser';
import type { AddressObject } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';

/**
 * A real SMTP server on 127.0.0.1 for tests (smtp-server + mailparser, no TLS, no DNS), recording every message it
 * accepts, with knobs for the failures a paging channel must survive:
 *
 *   const smtp = await TestSmtpServer.start();
 *   const channel = createEmailChannel({ smtpUrl: smtp.url, ... });
 *   smtp.failData(451, 1);          // the next DATA is answered 451, then back to normal
 *   smtp.rejectRecipients(/@gone\./); // RCPT TO answered 550 for matching addresses
 *   smtp.hangAfterData(1);          // the next message is received but never answered (RFC 1047 window)
 *   await smtp.stop();              // connection refused (open connections are cut) …
 *   await smtp.start();             // … until it listens again on the same port
 *   await smtp.close();
 *
 * `messages` holds what was accepted (answered 250), `attempts` every DATA the server read, whatever it answered.
 */

export interface ReceivedMail {
  /** The Message-ID header, with angle brackets, as mailparser reports it. */
  messageId: string | undefined;
  subject: string | undefined;
  /** The From header as text. */
  from: string | undefined;
  /** Envelope recipients (RCPT TO), lower-cased by nobody: exactly as the client sent them. */
  to: string[];
  /** The To header as text. */
  toHeader: string | undefined;
  text: string | undefined;
  html: string | false;
  /** Every header, lower-case name → value as text (structured values such as dates become strings). */
  headers: Record<string, string>;
  /** The message exactly as received. */
  raw: string;
  /** Envelope sender (MAIL FROM). */
  mailFrom: string | null;
  /** The authenticated user, when the client logged in. */
  user: string | undefined;
  receivedAt: number;
}

export type DataOutcome = 'accepted' | 'rejected' | 'held';

export interface DataAttempt {
  at: number;
  messageId: string | undefined;
  to: string[];
  outcome: DataOutcome;
  /** The reply code sent (250 when accepted); undefined while held. */
  code: number | undefined;
}

export interface TestSmtpServerOptions {
  /** Port to listen on; 0 (default) picks a free one, kept across stop()/start(). */
  port?: number;
  /** When set, clients may log in only with these credentials (535 otherwise); logging in stays optional. */
  users?: Record<string, string>;
}

type RecipientMatcher = (address: string) => boolean;

interface RecipientRule {
  match: RecipientMatcher;
  code: number;
  message: string;
}

interface HeldReply {
  mail: ReceivedMail;
  attempt: DataAttempt;
  reply: (err?: Error | null, message?: string) => void;
}

const HOST = '127.0.0.1';

function smtpError(code: number, message: string): Error & { responseCode: number } {
  return Object.assign(new Error(message), { responseCode: code });
}

function addressText(value: AddressObject | AddressObject[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.map((v) => v.text).join(', ') : value.text;
}

function headerText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Date) return value.toISOString();
  if (value && typeof value === 'object') {
    if ('text' in value && typeof value.text === 'string') return value.text;
    if ('value' in value && typeof value.value === 'string') {
      const params = 'params' in value && value.params && typeof value.params === 'object' ? value.params : {};
      return [value.value, ...Object.entries(params).map(([k, v]) => `${k}=${String(v)}`)].join('; ');
    }
  }
  return String(value);
}

function readAll(stream: SMTPServerDataStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

export class TestSmtpServer {
  /** Messages the server accepted (answered 250), in order. */
  readonly messages: ReceivedMail[] = [];
  /** Every DATA the server read, accepted, rejected or held. */
  readonly attempts: DataAttempt[] = [];
  /** Connections accepted since start, including refused-later ones (a pooled client reuses them). */
  connectionCount = 0;

  private server: SMTPServer | undefined;
  private readonly sockets = new Set<Socket>();
  private port: number;
  private dataFailures: { code: number; message: string; remaining: number }[] = [];
  private recipientRules: RecipientRule[] = [];
  private holdRemaining = 0;
  private readonly held: HeldReply[] = [];
  private readonly waiters = new Set<() => void>();
  private readonly users: Record<string, string> | undefined;

  private constructor(options: TestSmtpServerOptions) {
    this.port = options.port ?? 0;
    this.users = options.users;
  }

  static async start(options: TestSmtpServerOptions = {}): Promise<TestSmtpServer> {
    const server = new TestSmtpServer(options);
    await server.start();
    return server;
  }

  get host(): string {
    return HOST;
  }

  /** `smtp://127.0.0.1:<port>` (with credentials when given), for nodemailer or SMTP_URL. */
  url(credentials?: { user: string; pass: string }): string {
    const auth = credentials ? `${encodeURIComponent(credentials.user)}:${encodeURIComponent(credentials.pass)}@` : '';
    return `smtp://${auth}${HOST}:${this.port}`;
  }

  get listening(): boolean {
    return this.server !== undefined;
  }

  /** Listens (again) on the same port. */
  async start(): Promise<void> {
    if (this.server) return;
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      disableReverseLookup: true,
      logger: false,
      onAuth: (auth, _session, callback) => {
        const expected = this.users?.[auth.username ?? ''];
        if (this.users && (expected === undefined || expected !== auth.password)) return callback(smtpError(535, 'Authentication failed'));
        callback(null, { user: auth.username });
      },
      onRcptTo: (address, _session, callback) => {
        const rule = this.recipientRules.find((r) => r.match(address.address));
        if (rule) return callback(smtpError(rule.code, rule.message));
        callback();
      },
      onData: (stream, session, callback) => {
        this.onData(stream, session, callback).catch((error: unknown) =>
          callback(error instanceof Error ? error : new Error(String(error))),
        );
      },
    });
    server.server.on('connection', (socket: Socket) => {
      this.connectionCount++;
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(this.port, HOST, () => {
        server.server.off('error', reject);
        resolve();
      });
    });
    this.port = (server.server.address() as AddressInfo).port;
    this.server = server;
  }

  /**
   * Stops listening and cuts every open connection (a pooled client sees its connection die), so new connections
   * are refused until start(). Held messages stay held.
   */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await closed;
  }

  /** Stops the server and forgets held replies. */
  async close(): Promise<void> {
    this.held.splice(0);
    await this.stop();
  }

  /** Answers the next `times` DATA commands (after reading the message) with `code`, e.g. 451 or 554. */
  failData(code: number, times = 1, message = code >= 500 ? 'Message rejected' : 'Temporary failure, try again later'): void {
    this.dataFailures.push({ code, message, remaining: times });
  }

  /** Refuses RCPT TO for matching addresses (exact address, regular expression or predicate) with `code`. */
  rejectRecipients(
    match: string | RegExp | RecipientMatcher,
    code = 550,
    message = code >= 500 ? 'No such user here' : 'Mailbox busy, try again later',
  ): void {
    const matcher: RecipientMatcher =
      typeof match === 'string' ? (a) => a.toLowerCase() === match.toLowerCase() : match instanceof RegExp ? (a) => match.test(a) : match;
    this.recipientRules.push({ match: matcher, code, message });
  }

  /**
   * Reads the next `times` messages completely and never answers them (the client is left between its final
   * "." and the server's reply). `releaseHeld()` answers them later.
   */
  hangAfterData(times = 1): void {
    this.holdRemaining += times;
  }

  /** The messages currently held without an answer. */
  get heldMessages(): ReceivedMail[] {
    return this.held.map((h) => h.mail);
  }

  /** Answers held messages: 250 records them as accepted; any other code as rejected. */
  releaseHeld(code = 250): void {
    for (const held of this.held.splice(0)) {
      held.attempt.code = code;
      if (code === 250) {
        held.attempt.outcome = 'accepted';
        this.record(held.mail);
        held.reply(null, 'Queued after a long think');
      } else {
        held.attempt.outcome = 'rejected';
        held.reply(smtpError(code, 'Rejected after a long think'));
      }
    }
  }

  /** Clears recorded messages, attempts and knobs. */
  reset(): void {
    this.messages.splice(0);
    this.attempts.splice(0);
    this.dataFailures = [];
    this.recipientRules = [];
    this.holdRemaining = 0;
    this.releaseHeld(421);
    this.connectionCount = 0;
  }

  /** Resolves once at least `count` messages were accepted; rejects after `timeoutMs`. */
  async waitForMessages(count: number, timeoutMs = 5000): Promise<ReceivedMail[]> {
    if (this.messages.length >= count) return this.messages.slice();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.messages.length >= count) {
          clearTimeout(timer);
          this.waiters.delete(check);
          resolve(this.messages.slice());
        }
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`expected ${count} message(s) within ${timeoutMs} ms, got ${this.messages.length}`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  /** Messages accepted with this Message-ID (with or without angle brackets). */
  withMessageId(messageId: string): ReceivedMail[] {
    const bare = messageId.replace(/^<|>$/g, '');
    return this.messages.filter((m) => m.messageId?.replace(/^<|>$/g, '') === bare);
  }

  private record(mail: ReceivedMail): void {
    this.messages.push(mail);
    for (const waiter of [...this.waiters]) waiter();
  }

  private async onData(
    stream: SMTPServerDataStream,
    session: SMTPServerSession,
    callback: (err?: Error | null, message?: string) => void,
  ): Promise<void> {
    // The whole message is read before answering, whatever the answer: that is where RFC 1047's window opens.
    const raw = await readAll(stream);
    const parsed = await simpleParser(raw);
    const headers: Record<string, string> = {};
    for (const [name, value] of parsed.headers) headers[name.toLowerCase()] = headerText(value);
    const mail: ReceivedMail = {
      messageId: parsed.messageId,
      subject: parsed.subject,
      from: parsed.from?.text,
      to: session.envelope.rcptTo.map((r) => r.address),
      toHeader: addressText(parsed.to),
      text: parsed.text,
      html: parsed.html ?? false,
      headers,
      raw: raw.toString('utf8'),
      mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : null,
      user: typeof session.user === 'string' ? session.user : undefined,
      receivedAt: Date.now(),
    };
    const attempt: DataAttempt = { at: mail.receivedAt, messageId: mail.messageId, to: mail.to, outcome: 'accepted', code: 250 };
    this.attempts.push(attempt);

    const failure = this.dataFailures.find((f) => f.remaining > 0);
    if (failure) {
      failure.remaining--;
      attempt.outcome = 'rejected';
      attempt.code = failure.code;
      return callback(smtpError(failure.code, failure.message));
    }
    if (this.holdRemaining > 0) {
      this.holdRemaining--;
      attempt.outcome = 'held';
      attempt.code = undefined;
      this.held.push({ mail, attempt, reply: callback });
      return;
    }
    this.record(mail);
    callback(null, `Queued as ${mail.receivedAt.toString(36)}`);
  }
}
