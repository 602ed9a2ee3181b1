/** The same refusal as the SQLite store's (PostgreSQL would reject a negative LIMIT with its own error). */
export function checkLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`);
  return limit;
}
