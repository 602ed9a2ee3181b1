// Scripts a browser's way through the OpenID provider's development login and consent screens with fetch:
// redirects followed by hand, each origin's cookies carried, the forms posted as the page would.

/** Cookies by origin (the provider and Fireline share 127.0.0.1 but are kept apart here, as by path in a browser). */
export class CookieJar {
  private readonly byOrigin = new Map<string, Map<string, string>>();

  take(url: string, res: Response): void {
    const jar = this.jar(url);
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) jar.delete(name);
      else jar.set(name, value);
    }
  }

  header(url: string): string {
    return [...this.jar(url)].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  get(url: string, name: string): string | undefined {
    return this.jar(url).get(name);
  }

  delete(url: string, name: string): void {
    this.jar(url).delete(name);
  }

  private jar(url: string): Map<string, string> {
    const origin = new URL(url).origin;
    let jar = this.byOrigin.get(origin);
    if (!jar) this.byOrigin.set(origin, (jar = new Map()));
    return jar;
  }
}

export async function fetchWithJar(jar: CookieJar, url: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const cookie = jar.header(url);
  if (cookie) headers.set('cookie', cookie);
  const res = await fetch(url, { ...init, headers, redirect: 'manual' });
  jar.take(url, res);
  return res;
}

/**
 * From the provider's authorization URL to the redirect back to Fireline: logs in as `login` on the development
 * form and consents. Answers the callback URL (`…/auth/oidc/callback?code&state&iss`), not yet visited.
 */
export async function loginAtProvider(jar: CookieJar, authorizationUrl: string, login: string, callbackPrefix: string): Promise<string> {
  let url = authorizationUrl;
  for (let hop = 0; hop < 20; hop++) {
    if (url.startsWith(callbackPrefix)) return url;
    const res = await fetchWithJar(jar, url);
    if (res.status >= 300 && res.status < 400) {
      url = new URL(res.headers.get('location')!, url).href;
      continue;
    }
    const html = await res.text();
    expect({ status: res.status, html: html.slice(0, 300) }).toMatchObject({ status: 200 });
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    const prompt = /name="prompt" value="([^"]+)"/.exec(html)?.[1];
    if (!action || !prompt) throw new Error(`no login or consent form at ${url}:\n${html.slice(0, 500)}`);
    const body = new URLSearchParams(prompt === 'login' ? { prompt, login, password: 'any' } : { prompt });
    const posted = await fetchWithJar(jar, new URL(action, url).href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    expect(posted.status).toBeGreaterThanOrEqual(300);
    expect(posted.status).toBeLessThan(400);
    url = new URL(posted.headers.get('location')!, url).href;
  }
  throw new Error('the provider never redirected back to Fireline');
}
