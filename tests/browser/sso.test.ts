// Single sign-on in Debian's Chromium (playwright-core): the sign-in screen's "Sign in with SSO" button, a real
// OpenID provider's development login and consent screens, back to the page signed in with the role the group
// claim maps to; sign out here and at the provider; a person no rule maps meets a clear refusal page.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { parseRoleRules } from '../../src/domain/role-rules';
import { createOidcService } from '../../src/services/oidc';
import { declareIncident, startApiHarness } from '../support/api';
import type { ApiHarness } from '../support/api';
import { browserSuite, launchChromium, screenshot } from '../support/browser';
import { startTestProvider } from '../support/oidc-provider';
import type { TestProvider } from '../support/oidc-provider';

browserSuite('single sign-on in the browser', () => {
  let api: ApiHarness;
  let provider: TestProvider;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    api = await startApiHarness({
      name: 'browser-sso',
      moreDeps: async (url, store) => {
        provider = await startTestProvider({
          publicUrl: url,
          accounts: {
            grace: { name: 'Grace Lead', email: 'grace@example.test', groups: ['sre-leads'] },
            mallory: { name: 'Mallory Marketing', email: 'mallory@example.test', groups: ['marketing'] },
          },
        });
        return {
          publicUrl: url,
          oidc: createOidcService({
            settings: {
              issuer: provider.issuer,
              clientId: provider.clientId,
              clientSecret: provider.clientSecret,
              scopes: 'openid email profile groups',
              roleClaim: 'groups',
              roles: parseRoleRules('sre-leads=commander,sre=responder'),
            },
            publicUrl: url,
            store,
          }),
        };
      },
    });
    await declareIncident(api, { title: 'Checkout 500s after the deploy', runbook: 'hold' });
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, reducedMotion: 'reduce' });
    page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await api?.stop();
    await provider?.stop();
  });

  afterEach(() => {
    expect(pageErrors).toEqual([]);
  });

  /** On the provider's development screens: log in as `login` (any password) and consent. */
  async function loginAtProvider(login: string): Promise<void> {
    await page.waitForURL((url) => url.href.startsWith(`${provider.issuer}/interaction/`));
    await page.locator('input[name="login"]').fill(login);
    await page.locator('input[name="password"]').fill('any password');
    await page.locator('button[type="submit"]').click();
    await page.waitForURL((url) => !url.href.startsWith(provider.issuer) || /\/interaction\//.test(url.pathname));
    // The consent screen, unless the provider already has this person's grant.
    if (page.url().startsWith(provider.issuer)) {
      await page.locator('button[type="submit"]', { hasText: 'Continue' }).click();
    }
  }

  test('sign in with SSO: back on the page signed in as a commander, then sign out here and at the provider', async () => {
    await page.goto(`${api.url}/#/incidents`);
    const sso = page.locator('#sso-sign-in');
    await sso.waitFor();
    // The token form stays beside it, for API tokens.
    expect(await page.locator('#token').isVisible()).toBe(true);
    await screenshot(page, 'sso-00-sign-in');
    await sso.click();
    await loginAtProvider('grace');

    await page.waitForURL(`${api.url}/#/incidents`);
    const who = page.locator('#who-name');
    await who.filter({ hasText: 'Grace Lead · commander' }).waitFor();
    await page.locator('main', { hasText: 'Checkout 500s after the deploy' }).waitFor();
    await screenshot(page, 'sso-01-signed-in');
    const cookies = await context.cookies(api.url);
    expect(cookies.find((c) => c.name === 'fireline_session')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    const [entry] = await api.store.listAudit({ action: 'session.sign-in', limit: 1 });
    expect(entry).toMatchObject({ actor: { id: 'oidc:grace', role: 'commander' }, details: { via: 'oidc', role: 'commander' } });

    await page.locator('#sign-out').click();
    // The provider asks to confirm its own sign-out, then sends the browser back to Fireline's page.
    await page.waitForURL((url) => url.href.startsWith(`${provider.issuer}/session/end`));
    await page.locator('button', { hasText: 'Yes, sign me out' }).click();
    await page.waitForURL((url) => url.href.startsWith(`${api.url}/`));
    await page.locator('#sso-sign-in').waitFor();
    expect((await context.cookies(api.url)).find((c) => c.name === 'fireline_session')).toBeUndefined();
    const [out] = await api.store.listAudit({ action: 'session.sign-out', limit: 1 });
    expect(out).toMatchObject({ actor: { id: 'oidc:grace' }, details: { via: 'oidc' } });
  });

  test('a person no role rule maps sees why, and is not signed in', async () => {
    await page.goto(`${api.url}/`);
    await page.locator('#sso-sign-in').click();
    await loginAtProvider('mallory');
    await page.waitForURL((url) => url.href.startsWith(`${api.url}/auth/oidc/callback`));
    const problem = page.locator('#sso-problem');
    await problem.waitFor();
    expect(await page.locator('h1').innerText()).toBe('Sign-in refused');
    expect(await problem.innerText()).toContain('mallory@example.test');
    await screenshot(page, 'sso-02-refused');
    expect((await context.cookies(api.url)).find((c) => c.name === 'fireline_session')).toBeUndefined();
    await page.locator('a', { hasText: 'Back to the sign-in page' }).click();
    await page.locator('#sso-sign-in').waitFor();
  });
});
