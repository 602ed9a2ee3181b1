import { ROLES, roleAtLeast } from './role-order';
import type { Role } from './role-order';

/**
 * FIRELINE_OIDC_ROLES: `value=role` rules over one claim of the signed-in person (FIRELINE_OIDC_ROLE_CLAIM), such
 * as `sre-leads=commander,sre=responder,*=viewer`. A person gets the highest role among the rules whose value the
 * claim holds (a string, or one element of an array); `*` is the role of everyone the named rules miss. Nobody
 * matched and no `*`: no role, and no sign-in.
 */
export interface RoleRules {
  named: { value: string; role: Role }[];
  fallback: Role | undefined;
}

/** Parses the rules; throws an Error whose message says what is wrong (config.ts prefixes the setting's name). */
export function parseRoleRules(text: string): RoleRules {
  const rules: RoleRules = { named: [], fallback: undefined };
  const parts = text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (parts.length === 0) throw new Error('expected rules such as sre-leads=commander,sre=responder,*=viewer');
  for (const part of parts) {
    // The last `=` splits: a group name may hold one (`cn=sre,ou=…` style names cannot, since `,` separates rules).
    const eq = part.lastIndexOf('=');
    const value = eq === -1 ? '' : part.slice(0, eq).trim();
    const role = eq === -1 ? '' : part.slice(eq + 1).trim();
    if (!value || !role) throw new Error(`"${part}" is not value=role (e.g. sre=responder)`);
    if (!(ROLES as readonly string[]).includes(role)) throw new Error(`"${part}": the role must be one of ${ROLES.join(', ')}`);
    if (value === '*') {
      if (rules.fallback !== undefined) throw new Error('"*" is given twice');
      rules.fallback = role as Role;
    } else {
      rules.named.push({ value, role: role as Role });
    }
  }
  return rules;
}

/** The value at a dotted path (`realm_access.roles` for Keycloak's realm roles); a top-level name with dots wins. */
export function claimAt(claims: Record<string, unknown>, path: string): unknown {
  if (path in claims) return claims[path];
  let at: unknown = claims;
  for (const key of path.split('.')) {
    if (at === null || typeof at !== 'object' || Array.isArray(at)) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

/** The role these claims map to, or undefined when no rule matches and there is no `*`. */
export function roleFromClaims(rules: RoleRules, claims: Record<string, unknown>, claim: string): Role | undefined {
  const raw = claimAt(claims, claim);
  const values = new Set(
    (Array.isArray(raw) ? raw : [raw]).filter((v): v is string | number => typeof v === 'string' || typeof v === 'number').map(String),
  );
  let best: Role | undefined;
  for (const rule of rules.named) {
    if (values.has(rule.value) && (best === undefined || !roleAtLeast(best, rule.role))) best = rule.role;
  }
  return best ?? rules.fallback;
}
