// A real OpenID provider (oidc-provider, with its development login and consent screens) for the single sign-on
// tests, in a process of its own: oidc-provider is ES modules only, which jest's CommonJS runtime cannot load.
// Takes its setup as JSON in argv[2]; prints `{"issuer": …}` once it listens on 127.0.0.1 and an ephemeral port.
import http from 'node:http';
import process from 'node:process';
import { Provider } from 'oidc-provider';

const setup = JSON.parse(process.argv[2]);
const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: setup.clientId,
      client_secret: setup.clientSecret,
      redirect_uris: setup.redirectUris,
      post_logout_redirect_uris: setup.postLogoutRedirectUris,
    },
  ],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
  scopes: ['openid', 'offline_access', 'email', 'profile', 'groups'],
  // Any login the dev form is given is an account; `accounts` names their groups (none: no groups claim).
  async findAccount(_ctx, sub) {
    const known = setup.accounts[sub] ?? {};
    return {
      accountId: sub,
      async claims() {
        return {
          sub,
          email: known.email ?? `${sub}@example.test`,
          email_verified: true,
          name: known.name ?? sub,
          ...(known.groups ? { groups: known.groups } : {}),
        };
      },
    };
  },
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  cookies: { keys: ['fireline-test-provider-key'] },
  pkce: { required: () => true },
});
// Its development-only warnings are expected here.
provider.on('server_error', (_ctx, err) => process.stderr.write(`provider error: ${err.stack}\n`));
server.on('request', provider.callback());
process.stdout.write(`${JSON.stringify({ issuer })}\n`);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
