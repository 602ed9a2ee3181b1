/** Typed failures of the use cases; src/api maps each to one HTTP status in one place. */
export class ServiceError extends Error {
  constructor(
    readonly code: 'not_found' | 'conflict' | 'forbidden' | 'invalid' | 'unavailable',
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}

export const notFound = (message: string) => new ServiceError('not_found', message);
export const conflict = (message: string) => new ServiceError('conflict', message);
export const forbidden = (message: string) => new ServiceError('forbidden', message);
export const invalid = (message: string) => new ServiceError('invalid', message);
/** Bad input in one named field; reads like the API's schema errors. */
export const invalidField = (field: string, message: string) =>
  new ServiceError('invalid', `${field}: ${message}`, { issues: [{ path: field, message }] });
export const unavailable = (message: string) => new ServiceError('unavailable', message);
