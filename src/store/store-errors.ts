/** A list cursor that this store did not issue (tampered, truncated or from another API). */
export class InvalidCursorError extends Error {
  constructor(message = 'invalid cursor') {
    super(message);
    this.name = 'InvalidCursorError';
  }
}

/**
 * A patch for an incident row that does not exist. Thrown rather than ignored so that a write arriving
 * before its incident is retried by the activity instead of being lost.
 */
export class IncidentNotFoundError extends Error {
  constructor(readonly incidentId: string) {
    super(`incident ${incidentId} not found`);
    this.name = 'IncidentNotFoundError';
  }
}
