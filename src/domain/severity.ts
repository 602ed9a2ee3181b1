import { z } from 'zod';

/** SEV1 is the worst. Kept as strings so timelines and exports read naturally. */
export const SEVERITIES = ['SEV1', 'SEV2', 'SEV3', 'SEV4'] as const;
export const SeveritySchema = z.enum(SEVERITIES);
export type Severity = z.infer<typeof SeveritySchema>;

export const LIKELIHOODS = ['rare', 'unlikely', 'possible', 'likely', 'almost-certain'] as const;
export const IMPACTS = ['negligible', 'minor', 'moderate', 'major', 'severe'] as const;
export const LikelihoodSchema = z.enum(LIKELIHOODS);
export const ImpactSchema = z.enum(IMPACTS);
export type Likelihood = z.infer<typeof LikelihoodSchema>;
export type Impact = z.infer<typeof ImpactSchema>;

export const RiskSchema = z.object({ likelihood: LikelihoodSchema, impact: ImpactSchema });
export type Risk = z.infer<typeof RiskSchema>;

/** Likelihood × impact on a 5 × 5 matrix, each axis scored 1..5. */
export function riskScore(risk: Risk): number {
  return (LIKELIHOODS.indexOf(risk.likelihood) + 1) * (IMPACTS.indexOf(risk.impact) + 1);
}

/**
 * The risk-matrix bands of the order-system risk plan: 15–25 critical, 10–14 high, 5–9 medium, 1–4 low.
 * Impact "severe" is never below SEV2: a severe outage that is rare is still a major incident when it happens.
 */
export function severityFromRisk(risk: Risk): Severity {
  const score = riskScore(risk);
  if (score >= 15) return 'SEV1';
  if (score >= 10 || risk.impact === 'severe') return 'SEV2';
  if (score >= 5) return 'SEV3';
  return 'SEV4';
}
