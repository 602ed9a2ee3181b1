import {
  ServiceError as TemporalServiceError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  isGrpcServiceError,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { REJECTION } from '../domain/failure-types';
import { ServiceError, conflict, forbidden, invalid, notFound, unavailable } from './errors';

const GRPC_UNAVAILABLE = 14;
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_NOT_FOUND = 5;

/** Turns what the Temporal client throws into a ServiceError; anything unrecognised is rethrown as a bug. */
export function translateTemporalError(err: unknown, incidentId: string): never {
  if (err instanceof ServiceError) throw err;
  if (err instanceof WorkflowUpdateFailedError) {
    const cause = err.cause;
    if (cause instanceof ApplicationFailure) {
      const message = cause.message;
      switch (cause.type) {
        case REJECTION.notFound:
          throw notFound(message);
        case REJECTION.conflict:
          throw conflict(message);
        case REJECTION.forbidden:
          throw forbidden(message);
        case REJECTION.invalid:
          throw invalid(message);
      }
    }
    throw err;
  }
  // The read model and Temporal disagree about which ids exist (a restored or second read model).
  if (err instanceof WorkflowExecutionAlreadyStartedError)
    throw conflict(`incident ${incidentId} already exists in Temporal; declare again for a new id`);
  if (err instanceof WorkflowNotFoundError) throw conflict(`incident ${incidentId} is closed`);
  // The client wraps transport failures; the gRPC status is on the cause.
  if (err instanceof TemporalServiceError) {
    const cause = err.cause;
    if (isGrpcServiceError(cause) && cause.code === GRPC_NOT_FOUND) throw conflict(`incident ${incidentId} is closed`);
    throw unavailable('Temporal is unreachable; try again shortly');
  }
  if (isGrpcServiceError(err)) {
    if (err.code === GRPC_NOT_FOUND) throw conflict(`incident ${incidentId} is closed`);
    if (err.code === GRPC_UNAVAILABLE || err.code === GRPC_DEADLINE_EXCEEDED) {
      throw unavailable('Temporal is unreachable; try again shortly');
    }
  }
  if (err instanceof Error && /UNAVAILABLE|ECONNREFUSED|Connection dropped/i.test(err.message)) {
    throw unavailable('Temporal is unreachable; try again shortly');
  }
  throw err;
}
