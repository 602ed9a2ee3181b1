import type { ActionSpec } from '../src/domain/runbook';
import type { Targets } from '../src/domain/targets';
import type { TemplateContext } from './template';

export interface ActionRequest {
  /** `<incidentId>:<stepId>` (or `:compensate:<name>`); sent as the Idempotency-Key header. */
  idempotencyKey: string;
  incidentId: string;
  stepId: string;
  action: ActionSpec;
  context: TemplateContext;
  drill: boolean;
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

/** Remediations: a signed, idempotent HTTP webhook, or an allowlisted command run without a shell. */
export function createActionActivities(_deps: ActionDeps) {
  return {
    async runAction(_req: ActionRequest): Promise<ActionResult> {
      throw new Error('runAction is being implemented');
    },
  };
}
