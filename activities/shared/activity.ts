import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MissingEnvError, renderTarget, resolveEnvRefs } from '../template';
import type { TemplateContext } from '../template';
import { FAILURE } from '../../src/domain/failure-types';

/** The running activity's context; undefined when called outside an activity (unit tests, CLI). */
export function currentActivityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/** The running activity's cancellation signal; undefined outside an activity. */
export function activityCancellationSignal(): AbortSignal | undefined {
  return currentActivityContext()?.cancellationSignal;
}

/** What the activity ends with once cancelled: the SDK's CancelledFailure. */
export function cancellationOf(signal: AbortSignal): unknown {
  return signal.reason instanceof Error ? signal.reason : new CancelledFailure('CANCELLED');
}

/** Cancellation is not an answer: the activity ends with the cancellation. */
export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw cancellationOf(signal);
}

/**
 * What a long-running activity needs from Temporal. Inside an activity this is its context; outside one (a CLI
 * run, a unit test) heartbeats go nowhere and nothing ever cancels.
 */
export interface ActivityRuntime {
  heartbeat(details?: unknown): void;
  /** Aborted, with a CancelledFailure as reason, when the activity is cancelled. */
  readonly signal: AbortSignal;
  /** Rejects with a CancelledFailure when the activity is cancelled meanwhile. */
  sleep(ms: number): Promise<void>;
  /** What the previous attempt last heartbeated (undefined on a first attempt or outside an activity). */
  readonly heartbeatDetails: unknown;
  readonly log: {
    info(message: string, meta?: Record<string, unknown>): void;
    warn(message: string, meta?: Record<string, unknown>): void;
  };
}

export function activityRuntime(): ActivityRuntime {
  const c = currentActivityContext();
  if (c) {
    return {
      heartbeat: (details) => c.heartbeat(details),
      signal: c.cancellationSignal,
      sleep: (ms) => c.sleep(ms),
      heartbeatDetails: c.info.heartbeatDetails,
      log: { info: (m, meta) => c.log.info(m, meta), warn: (m, meta) => c.log.warn(m, meta) },
    };
  }
  const noop = () => undefined;
  return {
    heartbeat: noop,
    signal: new AbortController().signal,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    heartbeatDetails: undefined,
    log: { info: noop, warn: noop },
  };
}

export function nonRetryable(message: string, type: string, details?: Record<string, unknown>): ApplicationFailure {
  return ApplicationFailure.create({ message, type, nonRetryable: true, details: details ? [details] : undefined });
}

/** A mistake in a runbook or config/targets.yaml: retrying cannot help. */
export function configFailure(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, FAILURE.configError);
}

/** An environment variable the runbook or config/targets.yaml needs is unset: retrying cannot set it. */
export function missingEnvFailure(variable: string, where: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(`${variable} is not set in Fireline's environment (needed by ${where})`, FAILURE.missingEnv, {
    variable,
  });
}

/** Resolves `${ENV}` refs (and, with a context, runbook placeholders); an unset variable becomes `onMissing(variable)`. */
export function resolveOrFail(
  text: string,
  env: Record<string, string | undefined>,
  onMissing: (variable: string) => ApplicationFailure,
  context?: TemplateContext,
): string {
  try {
    return context ? renderTarget(text, context, env) : resolveEnvRefs(text, env);
  } catch (error) {
    if (error instanceof MissingEnvError) throw onMissing(error.variable);
    throw error;
  }
}

/** Renders runbook placeholders and `${ENV}` refs of a step; an unset variable is a failure naming it. */
export function renderer(context: TemplateContext, env: Record<string, string | undefined>, where: string): (template: string) => string {
  return (template) => resolveOrFail(template, env, (variable) => missingEnvFailure(variable, where), context);
}

/** `${ENV}` refs in a config/targets.yaml value; an unset variable is a failure naming it. */
export function resolveTargetValue(text: string, env: Record<string, string | undefined>, where: string): string {
  return resolveOrFail(text, env, (variable) => missingEnvFailure(variable, where));
}
