import { execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { ApplicationFailure } from '@temporalio/common';
import type { ActionSpec, HttpAction } from '../src/domain/runbook';
import type { Targets } from '../src/domain/targets';
import { SIGNATURE_HEADER, signPayload, TIMESTAMP_HEADER } from '../src/targets/sign';
import {
  activityCancellationSignal,
  configFailure,
  currentActivityContext,
  missingEnvFailure,
  renderer,
  throwIfCancelled,
} from './shared/activity';
import { exchange, parseRetryAfter, prepareHttpTarget, readText } from './shared/http';
import { Scrubber } from '../src/secrets/scrubber';
import { formatMs, oneLine, quote } from './shared/text';
import type { TemplateContext } from './template';
import { FAILURE } from '../src/domain/failure-types';

export interface ActionRequest {
  /** `<incidentId>:<stepId>` (or `:compensate:<name>`); sent as the Idempotency-Key header. */
  idempotencyKey: string;
  incidentId: string;
  stepId: string;
  action: ActionSpec;
  context: TemplateContext;
  drill: boolean;
  /** HTTP actions: how long one attempt may wait for an answer, in milliseconds; default 30 s. Commands use their configured timeout. */
  timeoutMs?: number;
}

export interface ActionResult {
  ok: boolean;
  /** HTTP status or command exit code. */
  code: number;
  detail: string;
  durationMs: number;
}

export interface ActionDeps {
  targets: Targets;
  env: Record<string, string | undefined>;
}

export const DEFAULT_ACTION_TIMEOUT_MS = 30_000;
/** Command output kept in the detail. */
export const MAX_OUTPUT_BYTES = 2048;
const MAX_CAPTURE_BYTES = 1024 * 1024;
const STDERR_TAIL_LINES = 10;
const HEARTBEAT_EVERY_MS = 5000;
const ENV_REF = /\$\{\s*[A-Z][A-Z0-9_]*\s*\}/;

/**
 * Remediations: a signed, idempotent HTTP webhook, or an allowlisted command run without a shell.
 *
 * Returning means the action succeeded (`ok: true`). Failures throw: 408, 429, 5xx and network errors as
 * retryable failures (Temporal retries by the step's policy; 429 waits for Retry-After), every other
 * failure as non-retryable, with the HTTP status or the exit code in the message.
 */
export function createActionActivities(deps: ActionDeps) {
  return {
    async runAction(req: ActionRequest): Promise<ActionResult> {
      const started = performance.now();
      const cancel = activityCancellationSignal();
      throwIfCancelled(cancel);
      const render = renderer(req.context, deps.env, `step "${req.stepId}"`);
      const elapsed = () => Math.round(performance.now() - started);
      if (req.action.http) return httpAction(req.action.http, req, deps, { render, cancel, elapsed });
      if (req.action.command !== undefined) return commandAction(req.action.command, req, deps, { render, cancel, elapsed });
      throw configFailure(`step "${req.stepId}": an action needs one of http or command`);
    },
  };
}

interface RunOptions {
  render: (template: string) => string;
  cancel: AbortSignal | undefined;
  elapsed: () => number;
}

// --- HTTP ------------------------------------------------------------------------------------------------

async function httpAction(
  spec: HttpAction,
  req: ActionRequest,
  deps: ActionDeps,
  { render, cancel, elapsed }: RunOptions,
): Promise<ActionResult> {
  const secrets = new Scrubber();
  const target = prepareHttpTarget(spec.url, spec.headers, render, secrets, 'action');
  const method = spec.method ?? 'POST';
  const label = `${method} ${target.display}`;

  let body: string | undefined;
  if (spec.body !== undefined) {
    if (method === 'GET') throw configFailure(`step "${req.stepId}": a GET action cannot send a body`);
    body = JSON.stringify(renderDeep(spec.body, render, secrets));
  }

  // Ours win over the runbook's headers of the same name: the key and signature must be what they say.
  const headers = target.headers;
  headers.set('Content-Type', 'application/json');
  headers.set('User-Agent', 'Fireline');
  headers.set('Idempotency-Key', req.idempotencyKey);
  if (req.drill) headers.set('X-Fireline-Drill', 'true');
  if (spec.secret !== undefined) {
    const secret = secretValue(spec.secret, deps, req.stepId);
    secrets.add(secret);
    // Signed per attempt: a retry carries a fresh timestamp, so receivers can keep a short tolerance.
    const timestamp = Math.floor(Date.now() / 1000);
    headers.set(TIMESTAMP_HEADER, String(timestamp));
    headers.set(SIGNATURE_HEADER, signPayload(secret, timestamp, body ?? ''));
  }

  const timeoutMs = req.timeoutMs ?? DEFAULT_ACTION_TIMEOUT_MS;
  // Redirects are not followed: a signed request goes only where the runbook says.
  const answer = await exchange(target.url, { method, headers, body, redirect: 'manual' }, { timeoutMs, cancel }, (response) =>
    readText(response, 4096),
  );
  if (!answer.answered) {
    throw ApplicationFailure.create({
      message: secrets.scrub(`${label} ${answer.problem}`),
      type: FAILURE.actionNetworkError,
      nonRetryable: false,
    });
  }
  const { response, body: text } = answer;

  const status = response.status;
  const snippet = oneLine(secrets.scrub(text), 200);
  const summary = secrets.scrub(`HTTP ${status} from ${label}`) + (snippet ? `: ${snippet}` : '');
  if (status >= 200 && status < 300) return { ok: true, code: status, detail: summary, durationMs: elapsed() };
  if (status === 408 || status === 429 || status >= 500) {
    const nextRetryDelay = status === 429 ? parseRetryAfter(response.headers.get('retry-after')) : undefined;
    throw ApplicationFailure.create({
      message: summary,
      type: FAILURE.actionHttpRetryable,
      nonRetryable: false,
      details: [{ status }],
      ...(nextRetryDelay !== undefined ? { nextRetryDelay } : {}),
    });
  }
  throw ApplicationFailure.create({
    message: summary,
    type: FAILURE.actionHttpRejected,
    nonRetryable: true,
    details: [{ status }],
  });
}

/** Every string in the JSON body (keys stay as written) is a template; resolved `${ENV}` values are never shown. */
function renderDeep(value: unknown, render: (template: string) => string, secrets: Scrubber): unknown {
  if (typeof value === 'string') {
    const rendered = render(value);
    if (ENV_REF.test(value)) secrets.add(rendered);
    return rendered;
  }
  if (Array.isArray(value)) return value.map((item) => renderDeep(item, render, secrets));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, renderDeep(item, render, secrets)]));
  }
  return value;
}

function secretValue(name: string, deps: ActionDeps, stepId: string): string {
  const entry = deps.targets.secrets[name];
  if (!entry) {
    const known = Object.keys(deps.targets.secrets);
    throw configFailure(
      `step "${stepId}": secret "${name}" is not in config/targets.yaml (${known.length ? `known: ${known.join(', ')}` : 'no secrets are configured'})`,
    );
  }
  const value = deps.env[entry.env];
  if (value === undefined || value === '') throw missingEnvFailure(entry.env, `secret "${name}" for step "${stepId}"`);
  return value;
}

// --- Commands --------------------------------------------------------------------------------------------

interface Exec {
  error: (Error & { code?: number | string; killed?: boolean; signal?: NodeJS.Signals | null }) | null;
  stdout: string;
  stderr: string;
}

async function commandAction(
  name: string,
  req: ActionRequest,
  deps: ActionDeps,
  { render, cancel, elapsed }: RunOptions,
): Promise<ActionResult> {
  const configured = deps.targets.commands[name];
  if (!configured) {
    const known = Object.keys(deps.targets.commands);
    throw configFailure(
      `step "${req.stepId}": command "${name}" is not in config/targets.yaml (${known.length ? `known: ${known.join(', ')}` : 'no commands are configured'})`,
    );
  }
  const useDrill = req.drill && configured.drill !== undefined;
  const command = useDrill && configured.drill ? configured.drill : configured;
  const label = `command "${name}"${useDrill ? ' (drill)' : ''}`;

  const secrets = new Scrubber();
  // Whatever a command prints, configured secrets are masked in details and errors.
  for (const { env } of Object.values(deps.targets.secrets)) secrets.add(deps.env[env]);
  const argv = command.argv.map((template) => {
    const value = render(template);
    if (ENV_REF.test(template)) secrets.add(value);
    return value;
  });
  const [file, ...args] = argv as [string, ...string[]];
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(deps.env)) if (value !== undefined) env[key] = value;

  const { error, stdout, stderr } = await runFile(file, args, { env, timeoutMs: command.timeout, cancel });
  const output = secrets.scrub(truncateBytes(stdout.trim(), MAX_OUTPUT_BYTES));
  if (!error) return { ok: true, code: 0, detail: output ? `${label} exited 0: ${output}` : `${label} exited 0`, durationMs: elapsed() };

  throwIfCancelled(cancel);
  const durationMs = elapsed();
  const tail = secrets.scrub(lastLines(stderr, STDERR_TAIL_LINES));
  const withTail = (text: string) => (tail ? `${text}: ${tail}` : text);
  if (typeof error.code === 'number') {
    throw ApplicationFailure.create({
      message: withTail(`${label} exited with ${error.code}`),
      type: FAILURE.commandFailed,
      nonRetryable: true,
      details: [{ code: error.code, durationMs, stdout: output }],
    });
  }
  if (error.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') {
    throw ApplicationFailure.nonRetryable(`${label} printed more than ${MAX_CAPTURE_BYTES} bytes and was stopped`, FAILURE.commandFailed, {
      code: -1,
      durationMs,
    });
  }
  if (error.killed || error.signal) {
    // execFile sets `killed` only for the kills it does itself; cancellation and maxBuffer are handled above.
    const timedOut = error.killed === true;
    throw ApplicationFailure.create({
      message: withTail(
        timedOut
          ? `${label} timed out after ${formatMs(command.timeout)} and was stopped`
          : `${label} was killed by ${error.signal ?? 'a signal'}`,
      ),
      type: timedOut ? FAILURE.commandTimeout : FAILURE.commandFailed,
      nonRetryable: true,
      details: [{ code: -1, signal: error.signal ?? null, durationMs }],
    });
  }
  // Could not start at all (ENOENT, EACCES): the config names something this machine cannot run.
  throw configFailure(`${label}: cannot run ${quote(secrets.scrub(file))}: ${error.code ?? error.message}`);
}

function runFile(
  file: string,
  args: string[],
  options: { env: Record<string, string>; timeoutMs: number; cancel: AbortSignal | undefined },
): Promise<Exec> {
  const context = currentActivityContext();
  return new Promise((resolve) => {
    const heartbeat = context ? setInterval(() => context.heartbeat(), HEARTBEAT_EVERY_MS) : undefined;
    const child = execFile(
      file,
      args,
      {
        env: options.env,
        timeout: options.timeoutMs,
        killSignal: 'SIGTERM',
        maxBuffer: MAX_CAPTURE_BYTES,
        encoding: 'utf8',
        windowsHide: true,
        ...(options.cancel ? { signal: options.cancel } : {}),
      },
      (error, stdout, stderr) => {
        if (heartbeat) clearInterval(heartbeat);
        resolve({ error: error as Exec['error'], stdout, stderr });
      },
    );
    // Commands get no input; a command that reads stdin sees end-of-file instead of hanging.
    child.stdin?.end();
  });
}

/** The first `max` bytes of UTF-8 text, cut at a character boundary. */
function truncateBytes(text: string, max: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= max) return text;
  let end = max;
  // Step back over continuation bytes (10xxxxxx) so no character is split.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return `${bytes.subarray(0, end).toString('utf8')}… (truncated, ${bytes.length} bytes in all)`;
}

function lastLines(text: string, count: number): string {
  const lines = text
    .split('\n')
    .map((line) => line.trimEnd())
    .filter((line) => line !== '');
  const tail = lines.slice(-count).join('\n');
  return tail.length > 1024 ? `…${tail.slice(-1024)}` : tail;
}
