import { ApplicationFailure } from '@temporalio/common';
import { FAILURE } from '../../src/domain/failure-types';
import type { BackupProviderConfig } from '../../src/domain/targets';
import { cancellationOf, nonRetryable, throwIfCancelled } from '../shared/activity';
import { basicAuthorization, displayUrl } from '../shared/http';
import { Scrubber } from '../../src/secrets/scrubber';
import type { ProviderContext, ProviderOutcome } from './types';

type HttpBackupConfig = Extract<BackupProviderConfig, { provider: 'http' }>;

/** What the activity heartbeats while polling; a retried attempt resumes polling this id. */
export interface HttpBackupProgress {
  provider: 'http';
  id: string;
  status: string;
}

/** The backup service's status answer. `restoreCheck` is optional: a service that verifies its backups may report it. */
interface StatusAnswer {
  /** 'running' | 'done' | 'failed'; anything else counts as still running. */
  status?: unknown;
  location?: unknown;
  sizeBytes?: unknown;
  sha256?: unknown;
  message?: unknown;
  error?: unknown;
  restoreCheck?: unknown;
}

const REQUEST_TIMEOUT_MS = 30_000;
const CANCEL_TIMEOUT_MS = 10_000;
/** Consecutive failed polls (network errors, 5xx) tolerated before the attempt fails and a retry resumes. */
const MAX_POLL_ERRORS = 5;

interface PreparedRequest {
  url: string;
  headers: Record<string, string>;
  /** For messages: no credentials, no query. */
  shown: string;
}

/** The id a previous attempt heartbeated, if any (a bare string or `{ id }`). */
export function resumedBackupId(details: unknown): string | undefined {
  if (typeof details === 'string' && details) return details;
  if (details && typeof details === 'object' && typeof (details as { id?: unknown }).id === 'string') {
    const { id, provider } = details as { id: string; provider?: unknown };
    if (id && (provider === undefined || provider === 'http')) return id;
  }
  return undefined;
}

/**
 * A backup service over HTTP: start (with the idempotency key), then poll until done or failed, heartbeating
 * the service's id so a retried attempt resumes the same backup instead of starting a second one.
 */
export async function httpBackup(config: HttpBackupConfig, ctx: ProviderContext): Promise<ProviderOutcome> {
  const { rt, req } = ctx;
  const secrets = new Scrubber();
  const prepare = (urlTemplate: string, headerTemplates: Record<string, string> | undefined, id?: string): PreparedRequest => {
    let url = ctx.resolve(urlTemplate);
    if (id !== undefined) url = url.split('{id}').join(encodeURIComponent(id));
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(headerTemplates ?? {})) {
      headers[name] = ctx.resolve(value);
      secrets.add(headers[name]);
    }
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw nonRetryable(`backup target "${req.target}" has an invalid URL (${displayUrl(url)})`, FAILURE.invalidBackupTarget);
    }
    // fetch refuses URLs with credentials: they become a Basic Authorization header.
    if (parsed.username || parsed.password) {
      const user = decodeURIComponent(parsed.username);
      const pass = decodeURIComponent(parsed.password);
      secrets.add(user, pass);
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'authorization')) headers.Authorization = basicAuthorization(user, pass);
      parsed.username = '';
      parsed.password = '';
    }
    secrets.add(url);
    for (const [, value] of parsed.searchParams) secrets.add(value);
    return { url: parsed.toString(), headers, shown: displayUrl(parsed.toString()) };
  };
  const clean = (text: string) => secrets.scrub(text);

  let id = resumedBackupId(rt.heartbeatDetails);
  if (id) {
    rt.log.info('resuming the HTTP backup started by an earlier attempt', { target: req.target, backupId: id });
  } else {
    const start = prepare(config.start.url, config.start.headers);
    const res = await send(
      start,
      config.start.method,
      rt.signal,
      {
        'Content-Type': 'application/json',
        'Idempotency-Key': req.idempotencyKey,
      },
      JSON.stringify({
        idempotencyKey: req.idempotencyKey,
        incidentId: req.incidentId,
        stepId: req.stepId,
        drill: req.drill,
        restoreCheck: req.restoreCheck,
      }),
    );
    const answer = await readJson(res, `${config.start.method} ${start.shown}`, clean);
    if (typeof answer.id === 'string' || typeof answer.id === 'number') {
      id = String(answer.id);
    } else if (answer.location !== undefined) {
      // A service that backs up synchronously answers with the result straight away.
      return outcome(answer as StatusAnswer, req.restoreCheck);
    } else {
      throw nonRetryable(`${config.start.method} ${start.shown} answered without an "id" to poll`, FAILURE.backupFailed);
    }
  }
  const progress = (status: string): HttpBackupProgress => ({ provider: 'http', id: id!, status });
  rt.heartbeat(progress('started'));

  try {
    let pollErrors = 0;
    for (;;) {
      const status = prepare(config.status.url, config.status.headers, id);
      let answer: StatusAnswer;
      try {
        const res = await send(status, 'GET', rt.signal);
        answer = (await readJson(res, `GET ${status.shown}`, clean)) as StatusAnswer;
        pollErrors = 0;
      } catch (err) {
        if (rt.signal.aborted || (err instanceof ApplicationFailure && err.nonRetryable) || ++pollErrors >= MAX_POLL_ERRORS) throw err;
        rt.log.warn('polling the backup service failed; trying again', { backupId: id, error: (err as Error).message });
        rt.heartbeat(progress('poll-error'));
        await rt.sleep(config.pollInterval);
        continue;
      }
      rt.heartbeat(progress(String(answer.status)));
      if (answer.status === 'done') return outcome(answer, req.restoreCheck);
      if (answer.status === 'failed') {
        const why =
          typeof answer.message === 'string' ? answer.message : typeof answer.error === 'string' ? answer.error : 'no reason given';
        throw nonRetryable(`the backup service reports backup ${id} failed: ${clean(why).slice(0, 500)}`, FAILURE.backupFailed, {
          backupId: id,
        });
      }
      await rt.sleep(config.pollInterval);
    }
  } catch (err) {
    if (!rt.signal.aborted) throw err;
    if (config.cancel) await cancelRemote(config, id, prepare, ctx);
    throw cancellationOf(rt.signal);
  }
}

async function send(
  request: PreparedRequest,
  method: string,
  signal: AbortSignal,
  extraHeaders: Record<string, string> = {},
  body?: string,
): Promise<Response> {
  throwIfCancelled(signal);
  try {
    return await fetch(request.url, {
      method,
      headers: { Accept: 'application/json', ...request.headers, ...extraHeaders },
      body,
      signal: AbortSignal.any([signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]),
    });
  } catch (err) {
    throwIfCancelled(signal);
    const cause = (err as Error & { cause?: Error }).cause;
    throw ApplicationFailure.create({
      message: `${method} ${request.shown} failed: ${cause?.message ?? (err as Error).message}`,
      type: FAILURE.backupServiceUnreachable,
    });
  }
}

/** A 2xx JSON object, else a failure: 4xx (except 408, 425, 429) are final, the rest may pass on a retry. */
async function readJson(res: Response, what: string, clean: (text: string) => string): Promise<Record<string, unknown>> {
  const text = await res.text();
  if (!res.ok) {
    const message = `${what} answered HTTP ${res.status}: ${clean(text).slice(0, 300)}`;
    const permanent = res.status >= 400 && res.status < 500 && ![408, 425, 429].includes(res.status);
    throw ApplicationFailure.create({
      message,
      type: FAILURE.backupServiceError,
      nonRetryable: permanent,
      details: [{ status: res.status }],
    });
  }
  try {
    const value: unknown = JSON.parse(text);
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // Reported below with the rest of the malformed answers.
  }
  throw ApplicationFailure.create({
    message: `${what} did not answer a JSON object: ${clean(text).slice(0, 200)}`,
    type: FAILURE.backupServiceError,
  });
}

function outcome(answer: StatusAnswer, wantRestoreCheck: boolean): ProviderOutcome {
  const location = typeof answer.location === 'string' && answer.location ? answer.location : undefined;
  if (!location) throw nonRetryable('the backup service reported done without a location', FAILURE.backupFailed);
  const check = answer.restoreCheck as { ok?: unknown; detail?: unknown } | undefined;
  const restoreCheck =
    wantRestoreCheck && check && typeof check.ok === 'boolean'
      ? {
          ok: check.ok,
          detail:
            typeof check.detail === 'string'
              ? check.detail.slice(0, 500)
              : check.ok
                ? 'reported ok by the backup service'
                : 'reported failed by the backup service',
        }
      : null;
  return {
    // A URL location loses credentials and query (a pre-signed URL is a secret); other locations stay as given.
    location: /^[a-z][a-z0-9+.-]*:\/\//i.test(location) ? displayUrl(location) : location,
    sizeBytes: typeof answer.sizeBytes === 'number' && Number.isFinite(answer.sizeBytes) ? answer.sizeBytes : 0,
    sha256: typeof answer.sha256 === 'string' ? answer.sha256.toLowerCase() : '',
    restoreCheck,
  };
}

/** Best effort: a cancelled incident must not wait on an unreachable backup service. */
async function cancelRemote(
  config: HttpBackupConfig,
  id: string,
  prepare: (url: string, headers: Record<string, string> | undefined, id?: string) => PreparedRequest,
  ctx: ProviderContext,
): Promise<void> {
  const cancel = config.cancel;
  if (!cancel) return;
  try {
    // The cancel endpoint has no headers of its own: it is the same service, so it gets the start request's.
    const req = prepare(cancel.url, config.start.headers, id);
    const res = await fetch(req.url, {
      method: cancel.method,
      headers: { ...req.headers, 'Idempotency-Key': `${ctx.req.idempotencyKey}:cancel` },
      signal: AbortSignal.timeout(CANCEL_TIMEOUT_MS),
    });
    await res.arrayBuffer();
    ctx.rt.log.info('asked the backup service to cancel', { backupId: id, status: res.status });
  } catch (err) {
    ctx.rt.log.warn('could not cancel the backup at the backup service', { backupId: id, error: (err as Error).message });
  }
}
