// Starts tests/support/oidc-provider-process.mjs: a real OpenID provider on 127.0.0.1, for the single sign-on tests.
import { spawn } from 'node:child_process';
import path from 'node:path';

export interface TestProviderAccount {
  name?: string;
  email?: string;
  groups?: string[];
}

export interface TestProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  stop(): Promise<void>;
}

export async function startTestProvider(opts: {
  /** Fireline's public URL: the redirect and post-logout URIs are registered for it. */
  publicUrl: string;
  accounts: Record<string, TestProviderAccount>;
  clientSecret?: string;
}): Promise<TestProvider> {
  const clientId = 'fireline';
  const clientSecret = opts.clientSecret ?? 'test-provider-client-secret';
  const setup = {
    clientId,
    clientSecret,
    redirectUris: [`${opts.publicUrl}/auth/oidc/callback`],
    postLogoutRedirectUris: [`${opts.publicUrl}/`],
    accounts: opts.accounts,
  };
  const child = spawn(process.execPath, [path.join(__dirname, 'oidc-provider-process.mjs'), JSON.stringify(setup)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const issuer = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the test OpenID provider did not start:\n${stderr}`)), 20_000);
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { issuer: string }).issuer);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the test OpenID provider exited (${code}):\n${stderr}`));
    });
  });
  return {
    issuer,
    clientId,
    clientSecret,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
