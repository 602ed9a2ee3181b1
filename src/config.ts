import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { parseRoleRules } from './domain/role-rules';
import type { RoleRules } from './domain/role-rules';

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const port = (fallback: number) =>
  z.coerce
    .number({ error: 'expected a port number' })
    .int('expected a whole port number')
    .min(1, 'expected a port from 1 to 65535')
    .max(65535, 'expected a port from 1 to 65535')
    .default(fallback);

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isProxyAddress(part: string): boolean {
  if (PROXY_NAMES.has(part)) return true;
  const [ip, bits, extra] = part.split('/');
  if (extra !== undefined || !ip || isIP(ip) === 0) return false;
  if (bits === undefined) return true;
  const max = isIP(ip) === 4 ? 32 : 128;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= max;
}

/**
 * Which hops in front of Fireline may say who the client is (X-Forwarded-For), in Express's terms: off (the
 * default: the peer address is the client), a hop count, or addresses and CIDRs. The auth throttle counts per
 * client address, so trusting too much lets a guesser pick a fresh address per request.
 */
const trustProxy = optionalText.transform((v, ctx): boolean | number | string[] => {
  if (v === undefined || v === 'off' || v === 'false') return false;
  if (/^\d{1,2}$/.test(v)) return Number(v);
  const parts = v.split(',').map((p) => p.trim());
  const bad = parts.find((p) => !isProxyAddress(p));
  if (bad !== undefined) {
    ctx.addIssue({
      code: 'custom',
      message: 'expected off, a hop count, or addresses/CIDRs such as loopback,10.0.0.0/8',
    });
    return z.NEVER;
  }
  return parts;
});

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** The OpenID provider's issuer: https, or http on this machine only (a provider run for a test or a demo). */
const oidcIssuer = optionalText.transform((v, ctx): string | undefined => {
  if (v === undefined) return undefined;
  const url = URL.canParse(v) ? new URL(v) : undefined;
  const ok =
    url && (url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))) && !url.search && !url.hash;
  if (!ok) {
    ctx.addIssue({
      code: 'custom',
      message: 'expected the issuer URL, https://… (http only for localhost), e.g. https://sso.example.com/realms/ops',
    });
    return z.NEVER;
  }
  return v;
});

const roleRules = optionalText.transform((v, ctx): RoleRules | undefined => {
  if (v === undefined) return undefined;
  try {
    return parseRoleRules(v);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});

/** The settings that only make sense over TLS to an external Temporal. */
const TEMPORAL_TLS_SETTINGS = [
  'TEMPORAL_TLS_CERT_PATH',
  'TEMPORAL_TLS_KEY_PATH',
  'TEMPORAL_TLS_CA_PATH',
  'TEMPORAL_TLS_SERVER_NAME',
  'TEMPORAL_API_KEY',
] as const;

/** Every setting Fireline reads, from the environment. Only entry points call loadConfig. */
export const ConfigSchema = z
  .object({
    FIRELINE_PORT: port(3000),
    FIRELINE_HOST: z.string().min(1).default('127.0.0.1'),
    FIRELINE_DATA_DIR: z.string().min(1).default('./data'),
    FIRELINE_CONFIG_DIR: z.string().min(1).default('./config'),
    FIRELINE_RUNBOOKS_DIR: z.string().min(1).default('./runbooks'),
    FIRELINE_PUBLIC_URL: z.url({ error: 'expected an http(s) URL such as http://localhost:3000' }).optional(),
    FIRELINE_TRUST_PROXY: trustProxy,
    FIRELINE_ADMIN_TOKEN: optionalText.pipe(
      z.string().min(24, 'expected at least 24 characters; make one with `openssl rand -hex 24`').optional(),
    ),
    FIRELINE_TASK_QUEUE: z.string().min(1).default('fireline'),
    FIRELINE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    TEMPORAL_ADDRESS: optionalText.pipe(
      z
        .string()
        .regex(/^[^\s:/]+:\d{1,5}$/, 'expected host:port, e.g. localhost:7233')
        .optional(),
    ),
    TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
    /**
     * Keys that encrypt workflow payloads and sealed secrets: `id=base64(32 bytes),…`, the first seals, all open.
     * Required with TEMPORAL_ADDRESS (every replica needs the same ring); embedded mode keeps one in the data dir.
     */
    FIRELINE_PAYLOAD_KEYS: optionalText,
    /**
     * Browser origins of the Temporal Web UI that may call the codec server (/codec), comma-separated
     * `scheme://host[:port]`. Unset: embedded mode allows its own dev server's UI, anything else no browser.
     */
    FIRELINE_TEMPORAL_UI_ORIGIN: optionalText.transform((v, ctx) => {
      if (v === undefined) return undefined;
      const origins = v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
      const isOrigin = (o: string) => URL.canParse(o) && /^https?:$/.test(new URL(o).protocol) && new URL(o).origin === o;
      if (origins.length === 0 || !origins.every(isOrigin)) {
        ctx.addIssue({ code: 'custom', message: 'expected origins such as http://localhost:8233 (scheme://host[:port], no path)' });
        return z.NEVER;
      }
      return origins;
    }),
    /** TLS to TEMPORAL_ADDRESS; unset means on when any other TEMPORAL_TLS_* setting or TEMPORAL_API_KEY is set. */
    TEMPORAL_TLS: optionalText
      .transform((v) => v?.toLowerCase())
      .pipe(
        z
          .enum(['on', 'off', 'true', 'false', '1', '0', 'yes', 'no'], { error: 'expected on or off' })
          .transform((v) => ['on', 'true', '1', 'yes'].includes(v))
          .optional(),
      ),
    /** mTLS client certificate and its key (PEM files), e.g. for a Temporal Cloud namespace with certificate auth. */
    TEMPORAL_TLS_CERT_PATH: optionalText,
    TEMPORAL_TLS_KEY_PATH: optionalText,
    /** The CA that signed the server's certificate, when the system's trust store does not know it. */
    TEMPORAL_TLS_CA_PATH: optionalText,
    /** The name the server's certificate is checked against, when it differs from the host in TEMPORAL_ADDRESS. */
    TEMPORAL_TLS_SERVER_NAME: optionalText,
    /** A Temporal Cloud API key, sent as a bearer token; implies TLS. */
    TEMPORAL_API_KEY: optionalText,
    TEMPORAL_CLI_PATH: optionalText,
    /** Port of the embedded dev server (its UI listens on this + 1000). */
    TEMPORAL_DEV_PORT: port(7233),
    SMTP_URL: optionalText.pipe(
      z
        .string()
        .regex(/^smtps?:\/\//, 'expected smtp://host:port or smtps://user:pass@host:465')
        .optional(),
    ),
    FIRELINE_MAIL_FROM: optionalText,
    SLACK_BOT_TOKEN: optionalText,
    SLACK_SIGNING_SECRET: optionalText,
    /** Socket Mode instead of HTTP (an xapp- token); not needed when Slack can reach /slack/events. */
    SLACK_APP_TOKEN: optionalText.pipe(z.string().startsWith('xapp-', 'expected an app-level token starting with xapp-').optional()),
    /** Only for tests: a fake Slack Web API. */
    SLACK_API_URL: optionalText.pipe(z.url({ error: 'expected an http(s) URL' }).optional()),
    /** An SMS/voice gateway that takes Fireline's signed JSON pages. */
    PAGING_WEBHOOK_URL: optionalText.pipe(z.url({ error: 'expected an http(s) URL' }).optional()),
    PAGING_WEBHOOK_SECRET: optionalText,
    /** Single sign-on for the web page (docs/sso.md): on when the issuer and the client id are set. */
    FIRELINE_OIDC_ISSUER: oidcIssuer,
    FIRELINE_OIDC_CLIENT_ID: optionalText,
    /** Unset: a public client (PKCE only, token_endpoint_auth_method none). */
    FIRELINE_OIDC_CLIENT_SECRET: optionalText,
    FIRELINE_OIDC_SCOPES: optionalText.transform((v, ctx) => {
      const scopes = (v ?? 'openid email profile').split(/\s+/).filter((s) => s !== '');
      if (!scopes.includes('openid')) {
        ctx.addIssue({ code: 'custom', message: 'must include openid, e.g. "openid email profile groups"' });
        return z.NEVER;
      }
      return scopes.join(' ');
    }),
    /** The claim the role rules read; a dotted path reaches into objects (`realm_access.roles`). */
    FIRELINE_OIDC_ROLE_CLAIM: optionalText.transform((v) => v ?? 'groups'),
    FIRELINE_OIDC_ROLES: roleRules,
    DATABASE_URL: optionalText.pipe(
      z
        .string()
        .regex(/^(postgres|postgresql):\/\//, 'expected postgres://user:pass@host:port/db')
        .optional(),
    ),
    /** Connections each process keeps to PostgreSQL (API and worker replicas each have their own pool). */
    DATABASE_POOL_MAX: z.coerce
      .number({ error: 'expected a whole number of connections' })
      .int('expected a whole number of connections')
      .min(1, 'expected 1 to 100 connections')
      .max(100, 'expected 1 to 100 connections')
      .default(10),
  })
  .superRefine((c, ctx) => {
    if ((c.SMTP_URL === undefined) !== (c.FIRELINE_MAIL_FROM === undefined)) {
      const missing = c.SMTP_URL === undefined ? 'SMTP_URL' : 'FIRELINE_MAIL_FROM';
      ctx.addIssue({ code: 'custom', path: [missing], message: 'email needs both SMTP_URL and FIRELINE_MAIL_FROM' });
    }
    if ((c.SLACK_BOT_TOKEN === undefined) !== (c.SLACK_SIGNING_SECRET === undefined)) {
      const missing = c.SLACK_BOT_TOKEN === undefined ? 'SLACK_BOT_TOKEN' : 'SLACK_SIGNING_SECRET';
      ctx.addIssue({ code: 'custom', path: [missing], message: 'Slack needs both SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET' });
    }
    if ((c.TEMPORAL_TLS_CERT_PATH === undefined) !== (c.TEMPORAL_TLS_KEY_PATH === undefined)) {
      const missing = c.TEMPORAL_TLS_CERT_PATH === undefined ? 'TEMPORAL_TLS_CERT_PATH' : 'TEMPORAL_TLS_KEY_PATH';
      ctx.addIssue({
        code: 'custom',
        path: [missing],
        message: 'an mTLS client certificate needs both TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH',
      });
    }
    if (c.FIRELINE_OIDC_ISSUER !== undefined || c.FIRELINE_OIDC_CLIENT_ID !== undefined) {
      const missing =
        c.FIRELINE_OIDC_ISSUER === undefined
          ? 'FIRELINE_OIDC_ISSUER'
          : c.FIRELINE_OIDC_CLIENT_ID === undefined
            ? 'FIRELINE_OIDC_CLIENT_ID'
            : undefined;
      if (missing)
        ctx.addIssue({
          code: 'custom',
          path: [missing],
          message: 'single sign-on needs both FIRELINE_OIDC_ISSUER and FIRELINE_OIDC_CLIENT_ID',
        });
      else if (c.FIRELINE_OIDC_ROLES === undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['FIRELINE_OIDC_ROLES'],
          message: 'single sign-on needs the claim → role rules, e.g. sre-leads=commander,sre=responder,*=viewer',
        });
    } else if (c.FIRELINE_OIDC_CLIENT_SECRET !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['FIRELINE_OIDC_ISSUER'], message: 'required with FIRELINE_OIDC_CLIENT_SECRET' });
    }
    const tlsSettings = TEMPORAL_TLS_SETTINGS.filter((name) => c[name] !== undefined);
    if (c.TEMPORAL_TLS === false && tlsSettings.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['TEMPORAL_TLS'],
        message: `is off, but ${tlsSettings.join(', ')} ${tlsSettings.length === 1 ? 'needs' : 'need'} TLS (an API key is never sent in clear text)`,
      });
    }
    if (c.TEMPORAL_ADDRESS === undefined && (c.TEMPORAL_TLS === true || tlsSettings.length > 0)) {
      ctx.addIssue({
        code: 'custom',
        path: ['TEMPORAL_ADDRESS'],
        message: `required with ${c.TEMPORAL_TLS === true ? 'TEMPORAL_TLS' : tlsSettings.join(', ')}: the embedded dev server speaks no TLS`,
      });
    }
  });

/** Settings whose whole value is a secret: masked in every log line (src/secrets/scrubber.ts), never echoed. */
export const SECRET_SETTINGS = [
  'FIRELINE_ADMIN_TOKEN',
  'FIRELINE_PAYLOAD_KEYS',
  'TEMPORAL_API_KEY',
  'SLACK_BOT_TOKEN',
  'SLACK_SIGNING_SECRET',
  'SLACK_APP_TOKEN',
  'PAGING_WEBHOOK_SECRET',
  'FIRELINE_OIDC_CLIENT_SECRET',
] as const;

/** Settings that are URLs whose password part is a secret. */
const URL_SETTINGS_WITH_PASSWORDS = ['SMTP_URL', 'DATABASE_URL'] as const;

/** The secret values among the settings: whole values, each payload key, and the passwords inside URLs. */
export function secretSettingValues(config: z.infer<typeof ConfigSchema>): string[] {
  const values: string[] = [];
  for (const name of SECRET_SETTINGS) {
    const value = config[name];
    if (value === undefined) continue;
    values.push(value);
    // A key ring's entries are `id=key`: each key alone is as secret as the ring.
    if (name === 'FIRELINE_PAYLOAD_KEYS') for (const entry of value.split(',')) values.push(entry.slice(entry.indexOf('=') + 1).trim());
  }
  for (const name of URL_SETTINGS_WITH_PASSWORDS) {
    const value = config[name];
    if (value === undefined) continue;
    try {
      const password = new URL(value).password;
      if (password) values.push(password, decodeURIComponent(password));
    } catch {
      // Not a parseable URL: the schema already refused it or it carries no password to find.
    }
  }
  return values;
}

/** What the OIDC service needs from the settings; undefined when single sign-on is off. */
export interface OidcSettings {
  issuer: string;
  clientId: string;
  clientSecret: string | undefined;
  scopes: string;
  roleClaim: string;
  roles: RoleRules;
}

export type Config = z.infer<typeof ConfigSchema> & {
  publicUrl: string;
  oidc: OidcSettings | undefined;
  dataDir: string;
  runbooksDir: string;
  configDir: string;
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid settings:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment; a bad value throws ConfigError naming the variable and what is expected. */
export function loadConfig(env: NodeJS.ProcessEnv, cwd = process.cwd()): Config {
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? 'environment');
        // Never echo the value: it may be a secret.
        return `${name}: ${issue.message}`;
      }),
    );
  }
  const c = parsed.data;
  return {
    ...c,
    publicUrl: (c.FIRELINE_PUBLIC_URL ?? `http://localhost:${c.FIRELINE_PORT}`).replace(/\/$/, ''),
    oidc:
      c.FIRELINE_OIDC_ISSUER && c.FIRELINE_OIDC_CLIENT_ID && c.FIRELINE_OIDC_ROLES
        ? {
            issuer: c.FIRELINE_OIDC_ISSUER,
            clientId: c.FIRELINE_OIDC_CLIENT_ID,
            clientSecret: c.FIRELINE_OIDC_CLIENT_SECRET,
            scopes: c.FIRELINE_OIDC_SCOPES,
            roleClaim: c.FIRELINE_OIDC_ROLE_CLAIM,
            roles: c.FIRELINE_OIDC_ROLES,
          }
        : undefined,
    dataDir: path.resolve(cwd, c.FIRELINE_DATA_DIR),
    runbooksDir: path.resolve(cwd, c.FIRELINE_RUNBOOKS_DIR),
    configDir: path.resolve(cwd, c.FIRELINE_CONFIG_DIR),
  };
}
