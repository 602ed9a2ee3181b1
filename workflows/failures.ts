/** The innermost message: activity failures wrap the cause that says what went wrong. */
export function failureMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  return err.cause instanceof Error ? failureMessage(err.cause) : err.message;
}
