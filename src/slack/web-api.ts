import { LogLevel, WebClient } from '@slack/web-api';
import type { WebClientOptions } from '@slack/web-api';

/**
 * The Slack Web API as every part of Fireline calls it: the app's gateway (./gateway) and the paging channel
 * (activities/channels/slack) make their calls through `callSlack`, and read its failures in one vocabulary.
 */

/**
 * The client never retries and never sleeps on a 429 itself (its default policy retries for half an hour and
 * pauses its whole queue): the gateway waits out Retry-After, and Temporal retries the paging activity.
 */
export function slackClientOptions(apiUrl?: string, timeoutMs = 10_000): WebClientOptions {
  return {
    ...(apiUrl ? { slackApiUrl: apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/` } : {}),
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: timeoutMs,
    logLevel: LogLevel.ERROR,
  };
}

/** `apiUrl` is SLACK_API_URL (tests point it at the fake Slack); unset = Slack's own. */
export function createSlackWebClient(token: string, apiUrl?: string, timeoutMs?: number): WebClient {
  return new WebClient(token, slackClientOptions(apiUrl, timeoutMs));
}

/**
 * - `rate_limited`: Slack asked to wait `retryAfterMs`; the same call may succeed then.
 * - `permanent`: Slack refused and the same call cannot succeed later (bad or revoked token, missing scope, unknown
 *   or archived channel, a message Slack will not take): see PERMANENT_SLACK_ERRORS.
 * - `transient`: Slack refused (`ok: false`, or an HTTP 4xx) and did nothing; a later call may succeed
 *   (`internal_error`), or the caller reads `slackError` (`name_taken`, `already_pinned` …).
 * - `uncertain`: no definite answer (timeout, network error, HTTP 5xx): the call may have taken effect.
 */
export type SlackFailureKind = 'rate_limited' | 'permanent' | 'transient' | 'uncertain';

/** Slack `error` strings that retrying the same call cannot fix. */
export const PERMANENT_SLACK_ERRORS: ReadonlySet<string> = new Set([
  'channel_not_found',
  'user_not_found',
  'users_not_found',
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'no_permission',
  'missing_scope',
  'not_allowed_token_type',
  'ekm_access_denied',
  'team_access_not_granted',
  'access_denied',
  'not_in_channel',
  'is_archived',
  'user_disabled',
  'user_not_visible',
  'cannot_dm_bot',
  'restricted_action',
  'restricted_action_read_only_channel',
  'restricted_action_thread_only_channel',
  'restricted_action_non_threadable_channel',
  'invalid_arguments',
  'invalid_arg_name',
  'invalid_array_arg',
  'invalid_charset',
  'invalid_form_data',
  'invalid_post_type',
  'missing_post_type',
  'invalid_blocks',
  'invalid_blocks_format',
  'invalid_metadata_format',
  'invalid_metadata_schema',
  'metadata_too_large',
  'metadata_must_be_sent_from_app',
  'msg_too_long',
  'no_text',
  'too_many_attachments',
  'users_list_not_supplied',
  'too_many_users',
  'method_deprecated',
  'deprecated_endpoint',
  'unknown_method',
  'two_factor_setup_required',
  'enterprise_is_restricted',
  'org_login_required',
  'team_not_found',
]);

export interface SlackFailureFacts {
  /** Slack's `error` when it answered `ok: false` (`name_taken`, `channel_not_found` …). */
  slackError?: string;
  /** The HTTP status when Slack answered with an error status (429, 5xx …). */
  status?: number;
  retryAfterMs?: number;
  /** The call may have taken effect although it failed (a timeout, a 5xx, "429 but posted"). */
  ambiguous?: boolean;
  /** For logs and failure details when neither of the above applies (`request_error`: no answer came). */
  code?: string;
}

/** What a Slack call failed with. */
export class SlackCallError extends Error {
  readonly slackError: string | null;
  readonly status: number | null;
  /** For rate limits: how long Slack asked to wait. */
  readonly retryAfterMs?: number;
  readonly ambiguous: boolean;
  /** For logs and failure details: Slack's error, else the HTTP status, else what `facts.code` says. */
  readonly code: string | number | null;

  constructor(
    readonly method: string,
    readonly kind: SlackFailureKind,
    message: string,
    facts: SlackFailureFacts = {},
  ) {
    super(message);
    this.name = 'SlackCallError';
    this.slackError = facts.slackError ?? null;
    this.status = facts.status ?? null;
    if (facts.retryAfterMs !== undefined) this.retryAfterMs = facts.retryAfterMs;
    this.ambiguous = facts.ambiguous ?? kind === 'uncertain';
    this.code = this.slackError ?? this.status ?? facts.code ?? null;
  }
}

/** Whole seconds Slack asked to wait, as milliseconds; 1 s when it said nothing usable. */
function retryAfterMs(seconds: unknown): number {
  const value = Number(seconds);
  return (Number.isFinite(value) && value > 0 ? value : 1) * 1000;
}

function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
}

/** Classifies what the web-api client threw (or a SlackCallError already classified). */
export function toSlackCallError(error: unknown, method: string): SlackCallError {
  if (error instanceof SlackCallError) return error;
  const e = error as {
    code?: unknown;
    retryAfter?: unknown;
    data?: { error?: unknown; response_metadata?: { retryAfter?: unknown; messages?: unknown } };
    statusCode?: unknown;
    original?: unknown;
  } | null;
  switch (e?.code) {
    case 'slack_webapi_rate_limited_error': {
      const ms = retryAfterMs(e.retryAfter);
      // Slack sometimes carries out a call it answers 429 to.
      return new SlackCallError(method, 'rate_limited', `Slack rate-limited ${method}; retry after ${ms / 1000}s`, {
        status: 429,
        retryAfterMs: ms,
        ambiguous: true,
      });
    }
    case 'slack_webapi_platform_error': {
      const slackError = typeof e.data?.error === 'string' ? e.data.error : 'unknown_error';
      const hints = Array.isArray(e.data?.response_metadata?.messages)
        ? ` (${e.data.response_metadata.messages.map(String).join('; ')})`
        : '';
      const message = `Slack ${method} failed: ${slackError}${hints}`;
      if (slackError === 'ratelimited' || slackError === 'rate_limited') {
        return new SlackCallError(method, 'rate_limited', message, {
          slackError,
          retryAfterMs: retryAfterMs(e.data?.response_metadata?.retryAfter),
        });
      }
      return new SlackCallError(method, PERMANENT_SLACK_ERRORS.has(slackError) ? 'permanent' : 'transient', message, { slackError });
    }
    case 'slack_webapi_http_error': {
      const status = Number(e.statusCode);
      const known = Number.isFinite(status) ? status : undefined;
      return new SlackCallError(
        method,
        known !== undefined && known < 500 ? 'transient' : 'uncertain',
        `Slack ${method} answered HTTP ${String(e.statusCode)}`,
        known !== undefined ? { status: known } : {},
      );
    }
    case 'slack_webapi_request_error':
      return new SlackCallError(method, 'uncertain', `Slack ${method} request failed: ${messageOf(e.original ?? error)}`, {
        code: 'request_error',
      });
    default:
      return new SlackCallError(method, 'uncertain', `Slack ${method} failed: ${messageOf(error)}`);
  }
}

/** One Web API call; every failure is thrown as a classified SlackCallError. */
export async function callSlack<T = Record<string, unknown>>(client: WebClient, method: string, args: Record<string, unknown>): Promise<T> {
  try {
    return (await client.apiCall(method, args)) as T;
  } catch (error) {
    throw toSlackCallError(error, method);
  }
}
