import type { Actor, Role } from './roles';

/**
 * Who a request acts as: an API token (bearer, or a page session opened with one) or a person signed in through
 * the OpenID provider. Everything that needs an actor or a role asks this, never the token or session behind it.
 */
export type Principal =
  | { kind: 'token'; tokenId: string; name: string; role: Role }
  | {
      kind: 'oidc';
      issuer: string;
      /** The provider's `sub`: stable per person, unlike the email. */
      subject: string;
      name: string;
      email: string | null;
      role: Role;
    };

/** The actor of a principal in the audit log and on timelines: `token:<id>` or `oidc:<sub>`. */
export function actorOfPrincipal(p: Principal): Actor {
  if (p.kind === 'token') return { id: `token:${p.tokenId}`, name: p.name, role: p.role };
  return { id: `oidc:${p.subject}`.slice(0, 200), name: (p.email ?? p.name).slice(0, 200), role: p.role };
}
