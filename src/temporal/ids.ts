/** One workflow per incident; the id is derived, so any process can address it without a lookup. */
export function incidentWorkflowId(incidentId: string): string {
  return `incident/${incidentId}`;
}

export function formatIncidentId(n: number): string {
  return `INC-${n}`;
}
