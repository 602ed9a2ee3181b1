/** Where a page can go. SMS and voice gateways are reached through the webhook channel. */
export type ChannelKind = 'email' | 'slack' | 'webhook';

/** One page to one contact. Everything a channel needs is here; channels hold only their connection settings. */
export interface PageMessage {
  /**
   * Stable across every attempt to deliver this page (e.g. `<incidentId>:<stepId>:<level>:<personId>:<channel>`).
   * Channels derive their provider-side identity from it: the email Message-ID, the Slack message metadata key,
   * the webhook Idempotency-Key header.
   */
  idempotencyKey: string;
  /** Email address(es), Slack user id (or a channel id / an email address to look up), or a gateway target (phone number). */
  to: string;
  subject: string;
  /** Plain text. Channels escape it for their markup (HTML, Slack mrkdwn). */
  text: string;
  /** Optional pre-rendered HTML body for email, trusted as is (the caller escapes what it interpolates). */
  html?: string;
  /** Absolute http(s) URL, or a path resolved against the channel's public URL. */
  incidentUrl: string;
  drill: boolean;
}

export interface PageDelivery {
  /**
   * What the provider calls this message: the Message-ID (or the server's own id when it rewrites it) for email,
   * `<channel>:<ts>` for Slack, the gateway's id (from its JSON answer) for webhooks; null when it said nothing.
   */
  providerId: string | null;
  /** One line for the timeline: what answered and what it said. */
  detail: string;
}

/**
 * A delivery channel. `send` resolves only when the provider accepted the page; otherwise it throws an
 * `ApplicationFailure` whose `type` is one of `ChannelFailureType` (see ./errors): non-retryable for
 * permanent failures and uncertain deliveries, retryable (sometimes with `nextRetryDelay`) otherwise.
 * Sending the same `idempotencyKey` again after a success or an ambiguous failure never produces a second page
 * where the provider lets us tell (Slack reconciles; webhooks get the Idempotency-Key header; email keeps the
 * Message-ID and refuses to retry when the server may already have the message).
 */
export interface PageChannel {
  readonly kind: ChannelKind;
  send(message: PageMessage): Promise<PageDelivery>;
  /** Releases connections (the SMTP pool). Safe to call more than once. */
  close(): Promise<void>;
}
