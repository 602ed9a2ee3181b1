// The single sign-on settings and the claim → role rules: clear errors naming the setting, the mapping itself.
import { ConfigError, loadConfig, secretSettingValues } from '../../src/config';
import { parseRoleRules, roleFromClaims } from '../../src/domain/role-rules';

const ON = {
  FIRELINE_OIDC_ISSUER: 'https://sso.example.com/realms/ops',
  FIRELINE_OIDC_CLIENT_ID: 'fireline',
  FIRELINE_OIDC_CLIENT_SECRET: 'oidc-client-secret-canary',
  FIRELINE_OIDC_ROLES: 'sre-leads=commander,sre=responder,*=viewer',
};

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

test('off unless issuer and client id are set; defaults for scopes and the role claim', () => {
  expect(loadConfig({}).oidc).toBeUndefined();
  const config = loadConfig(ON);
  expect(config.oidc).toEqual({
    issuer: ON.FIRELINE_OIDC_ISSUER,
    clientId: 'fireline',
    clientSecret: 'oidc-client-secret-canary',
    scopes: 'openid email profile',
    roleClaim: 'groups',
    roles: {
      named: [
        { value: 'sre-leads', role: 'commander' },
        { value: 'sre', role: 'responder' },
      ],
      fallback: 'viewer',
    },
  });
  expect(secretSettingValues(config)).toContain('oidc-client-secret-canary');
});

test('bad values stop start-up with the setting named, never echoing the secret', () => {
  expect(problems({ ...ON, FIRELINE_OIDC_ISSUER: 'http://sso.example.com' })).toEqual([
    expect.stringMatching(/^FIRELINE_OIDC_ISSUER: .*https/),
  ]);
  expect(problems({ ...ON, FIRELINE_OIDC_ISSUER: 'not a url' })).toEqual([expect.stringMatching(/^FIRELINE_OIDC_ISSUER: /)]);
  expect(problems({ ...ON, FIRELINE_OIDC_ISSUER: 'http://127.0.0.1:9000' })).toEqual([]);
  expect(problems({ ...ON, FIRELINE_OIDC_CLIENT_ID: '' })).toEqual([expect.stringMatching(/^FIRELINE_OIDC_CLIENT_ID: .*both/)]);
  expect(problems({ FIRELINE_OIDC_CLIENT_ID: 'x', FIRELINE_OIDC_ROLES: '*=viewer' })).toEqual([
    expect.stringMatching(/^FIRELINE_OIDC_ISSUER: /),
  ]);
  expect(problems({ ...ON, FIRELINE_OIDC_ROLES: '' })).toEqual([expect.stringMatching(/^FIRELINE_OIDC_ROLES: .*needs/)]);
  expect(problems({ ...ON, FIRELINE_OIDC_ROLES: 'sre=boss' })).toEqual([
    expect.stringMatching(/^FIRELINE_OIDC_ROLES: .*viewer, responder, commander, admin/),
  ]);
  expect(problems({ ...ON, FIRELINE_OIDC_ROLES: 'sre' })).toEqual([expect.stringMatching(/^FIRELINE_OIDC_ROLES: "sre" is not value=role/)]);
  expect(problems({ ...ON, FIRELINE_OIDC_ROLES: '*=viewer,*=admin' })).toEqual([expect.stringMatching(/^FIRELINE_OIDC_ROLES: .*twice/)]);
  expect(problems({ ...ON, FIRELINE_OIDC_SCOPES: 'email profile' })).toEqual([expect.stringMatching(/^FIRELINE_OIDC_SCOPES: .*openid/)]);
  expect(problems({ FIRELINE_OIDC_CLIENT_SECRET: 'oidc-client-secret-canary' })).toEqual([
    expect.stringMatching(/^FIRELINE_OIDC_ISSUER: /),
  ]);
  for (const env of [
    { ...ON, FIRELINE_OIDC_ROLES: 'x' },
    { ...ON, FIRELINE_OIDC_ISSUER: 'bad' },
  ]) {
    expect(problems(env).join('\n')).not.toContain('oidc-client-secret-canary');
  }
});

test('a person gets the highest role among the rules their claim matches; * only for the rest', () => {
  const rules = parseRoleRules('sre=responder, sre-leads=commander , support=viewer');
  expect(roleFromClaims(rules, { groups: ['sre', 'sre-leads'] }, 'groups')).toBe('commander');
  expect(roleFromClaims(rules, { groups: ['support'] }, 'groups')).toBe('viewer');
  expect(roleFromClaims(rules, { groups: 'sre' }, 'groups')).toBe('responder');
  expect(roleFromClaims(rules, { groups: ['marketing'] }, 'groups')).toBeUndefined();
  expect(roleFromClaims(rules, {}, 'groups')).toBeUndefined();
  const withFallback = parseRoleRules('sre-leads=commander,*=viewer');
  expect(roleFromClaims(withFallback, { groups: ['marketing'] }, 'groups')).toBe('viewer');
  expect(roleFromClaims(withFallback, { groups: ['sre-leads'] }, 'groups')).toBe('commander');
  // Keycloak's realm roles sit in an object; a dotted claim name reaches them.
  expect(roleFromClaims(withFallback, { realm_access: { roles: ['sre-leads'] } }, 'realm_access.roles')).toBe('commander');
  // Group names with `=` split at the last one.
  expect(parseRoleRules('cn=sre=responder').named).toEqual([{ value: 'cn=sre', role: 'responder' }]);
});
