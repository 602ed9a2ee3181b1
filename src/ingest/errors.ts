import type { IntegrationType } from './integrations';
import { describeIssues } from './issues';
import type { PayloadIssue } from './issues';

/**
 * Why ingest refuses a request. The codes are the API's error codes; src/api/errors.ts gives each its HTTP
 * status (and the PagerDuty receiver re-shapes those into PagerDuty's bodies).
 */
export type IngestErrorCode =
  'unauthorized' | 'payload_too_large' | 'unsupported_media_type' | 'request_aborted' | 'invalid_json' | 'invalid_request';

export class IngestError extends Error {
  constructor(
    readonly code: IngestErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'IngestError';
  }
}

/**
 * One answer for every authentication failure: which part was wrong is nobody's business but the log's, so
 * `reason` is for the log only.
 */
export class AuthenticationError extends IngestError {
  constructor(
    readonly integrationType: IntegrationType,
    readonly reason: string,
  ) {
    super('unauthorized', 'the credential or signature is not valid for any configured integration');
    this.name = 'AuthenticationError';
  }
}

/** A body that is JSON but not the receiver's format, every problem named. */
export function invalidPayload(issues: PayloadIssue[]): IngestError {
  return new IngestError('invalid_request', describeIssues(issues), { issues });
}
