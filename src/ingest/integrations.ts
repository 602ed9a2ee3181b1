import { z } from 'zod';
import type { RunbookPath } from '../runbooks/check';
import { processSecrets } from '../secrets/scrubber';
import { GRAFANA_SIGNATURE_HEADERS } from './grafana';
import { secretsEqual } from './keys';
import { parseYamlText, readYamlFile, sortProblems, zodProblems } from './yaml-config';
import type { At, ConfigProblem, YamlRead } from './yaml-config';

export { formatConfigProblem } from './yaml-config';
export type { ConfigProblem } from './yaml-config';

/**
 * config/integrations.yaml: the monitoring systems allowed to send alerts, each with its own credential.
 * Secrets are never written in the file, only the environment variable that holds them (`{ env: NAME }`).
 */
export const INTEGRATION_TYPES = ['alertmanager', 'grafana', 'pagerduty', 'generic'] as const;
export type IntegrationType = (typeof INTEGRATION_TYPES)[number];

const NameSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'use lowercase letters, digits and dashes (at most 63)');
const EnvNameSchema = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'expected an environment variable name (upper case, digits, _)');
const HeaderNameSchema = z.string().regex(/^[A-Za-z0-9-]{1,100}$/, 'expected an HTTP header name');

const literalSecret = (iss: { code?: string; input?: unknown }) =>
  iss.code === 'invalid_type' &&
  iss.input !== undefined &&
  (typeof iss.input !== 'object' || iss.input === null || Array.isArray(iss.input))
    ? 'secrets come only from the environment: write { env: VARIABLE_NAME }, never the secret itself'
    : undefined;

export const SecretRefSchema = z.object({ env: EnvNameSchema }, { error: literalSecret }).strict();

const BasicSchema = z
  .object({
    /** Not a secret: the user name Alertmanager's `basic_auth.username` / Grafana's user sends. */
    username: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[^:]+$/, 'must not contain ":"'),
    password: SecretRefSchema,
  })
  .strict();

const GrafanaHmacSchema = z
  .object(
    {
      env: EnvNameSchema,
      /** The contact point's `hmacConfig.header`; default: both names Grafana uses (docs/reference/integrations.md §0.12). */
      header: HeaderNameSchema.optional(),
      /** The contact point's `hmacConfig.timestampHeader`; when set the timestamp is signed and must be within 300 s. */
      timestampHeader: HeaderNameSchema.optional(),
    },
    { error: literalSecret },
  )
  .strict();

const description = z.string().max(500).optional();

const AlertmanagerIntegrationSchema = z
  .object({ type: z.literal('alertmanager'), description, token: SecretRefSchema.optional(), basic: BasicSchema.optional() })
  .strict();
const GrafanaIntegrationSchema = z
  .object({
    type: z.literal('grafana'),
    description,
    token: SecretRefSchema.optional(),
    basic: BasicSchema.optional(),
    hmac: GrafanaHmacSchema.optional(),
  })
  .strict();
const PagerDutyIntegrationSchema = z.object({ type: z.literal('pagerduty'), description, routingKey: SecretRefSchema }).strict();
const GenericIntegrationSchema = z.object({ type: z.literal('generic'), description, hmac: SecretRefSchema }).strict();

export const IntegrationConfigSchema = z.discriminatedUnion('type', [
  AlertmanagerIntegrationSchema,
  GrafanaIntegrationSchema,
  PagerDutyIntegrationSchema,
  GenericIntegrationSchema,
]);
export type IntegrationConfig = z.infer<typeof IntegrationConfigSchema>;

export const IntegrationsFileSchema = z.object({ integrations: z.record(NameSchema, IntegrationConfigSchema).default({}) }).strict();

/** An integration with its secrets read from the environment. Never logged or serialised. */
export interface ResolvedIntegration {
  id: string;
  type: IntegrationType;
  token?: string;
  basic?: { username: string; password: string };
  hmac?: {
    secret: string;
    /** Header names the signature is read from, lower case. */
    signatureHeaders: string[];
    /** Grafana: the header carrying the signed unix timestamp, lower case. */
    timestampHeader?: string;
  };
  routingKey?: string;
  /** False when a secret it needs is unset: it then accepts nothing. */
  enabled: boolean;
}

export type LoadIntegrationsResult =
  { ok: true; integrations: Integrations; warnings: ConfigProblem[] } | { ok: false; problems: ConfigProblem[] };

type Env = Record<string, string | undefined>;

/** Shorter secrets than this are guessable; they work, with a warning. */
const MIN_SECRET_LENGTH = 16;
const MAX_CREDENTIAL_LENGTH = 4096;
const BEARER = /^Bearer\s+(\S+)\s*$/i;
const BASIC = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i;

/** A parsed `Authorization` header; anything else is no credential at all. */
export type HeaderCredential = { kind: 'bearer'; token: string } | { kind: 'basic'; username: string; password: string } | { kind: 'none' };

export function parseAuthorization(header: string | undefined): HeaderCredential {
  if (!header || header.length > MAX_CREDENTIAL_LENGTH) return { kind: 'none' };
  const bearer = BEARER.exec(header);
  if (bearer) return { kind: 'bearer', token: bearer[1] as string };
  const basic = BASIC.exec(header);
  if (basic) {
    const decoded = Buffer.from(basic[1] as string, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) return { kind: 'basic', username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  return { kind: 'none' };
}

/**
 * The configured integrations and the credential checks against them. Every comparison is constant-time
 * (digests of equal length), and every candidate is checked, so timing says nothing about which one, or which
 * part of a credential, was wrong.
 */
export class Integrations {
  private readonly all: readonly ResolvedIntegration[];

  constructor(integrations: readonly ResolvedIntegration[]) {
    this.all = [...integrations];
  }

  static none(): Integrations {
    return new Integrations([]);
  }

  /** Ids, types and whether each can authenticate: safe to log. */
  list(): { id: string; type: IntegrationType; enabled: boolean }[] {
    return this.all.map(({ id, type, enabled }) => ({ id, type, enabled }));
  }

  get(id: string): ResolvedIntegration | undefined {
    return this.all.find((i) => i.id === id);
  }

  ofType(type: IntegrationType): ResolvedIntegration[] {
    return this.all.filter((i) => i.type === type && i.enabled);
  }

  /**
   * Integrations of `type` the Authorization header admits, in file order: those whose token or basic
   * credential matches, and those that have none (they are decided by their HMAC once the body is read).
   */
  headerCandidates(type: 'alertmanager' | 'grafana', authorization: string | undefined): ResolvedIntegration[] {
    const credential = parseAuthorization(authorization);
    const admitted: ResolvedIntegration[] = [];
    for (const integration of this.ofType(type)) {
      if (!integration.token && !integration.basic) {
        admitted.push(integration);
        continue;
      }
      let match = false;
      if (integration.token) {
        const ok = secretsEqual(credential.kind === 'bearer' ? credential.token : '', integration.token);
        match = (ok && credential.kind === 'bearer') || match;
      }
      if (integration.basic) {
        const user = secretsEqual(credential.kind === 'basic' ? credential.username : '', integration.basic.username);
        const pass = secretsEqual(credential.kind === 'basic' ? credential.password : '', integration.basic.password);
        match = (user && pass && credential.kind === 'basic') || match;
      }
      if (match) admitted.push(integration);
    }
    return admitted;
  }

  /** The PagerDuty-style integration whose routing key this is. */
  byRoutingKey(routingKey: string): ResolvedIntegration | undefined {
    let found: ResolvedIntegration | undefined;
    for (const integration of this.ofType('pagerduty')) {
      if (integration.routingKey && secretsEqual(routingKey, integration.routingKey) && !found) found = integration;
    }
    return found;
  }
}

/** Reads config/integrations.yaml; a missing file means no integrations (every receiver answers 401). */
export function loadIntegrations(file: string, env: Env): LoadIntegrationsResult {
  return resolve(readYamlFile(file), env);
}

export function parseIntegrations(source: string | Uint8Array, file: string, env: Env): LoadIntegrationsResult {
  return resolve(parseYamlText(source, file), env);
}

function resolve(read: YamlRead, env: Env): LoadIntegrationsResult {
  if (!read.ok) return read;
  const { data, at } = read;
  const parsed = IntegrationsFileSchema.safeParse(data);
  if (!parsed.success)
    return {
      ok: false,
      problems: sortProblems(zodProblems(parsed.error, IntegrationsFileSchema, data, at, 'a mapping with an `integrations:` mapping')),
    };

  const problems: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];
  const resolved: ResolvedIntegration[] = [];
  for (const [id, config] of Object.entries(parsed.data.integrations)) {
    const base: RunbookPath = ['integrations', id];
    const needs = credentialProblem(config);
    if (needs) problems.push(at(base, needs, true));
    let enabled = true;
    const secret = (path: RunbookPath, ref: { env: string }): string => {
      const value = env[ref.env];
      if (!value) {
        enabled = false;
        warnings.push(at([...base, ...path, 'env'], `${ref.env} is not set: integration "${id}" refuses every request until it is`));
        return '';
      }
      // Masked in this process's logs from now on (src/logger.ts).
      processSecrets.add(value);
      if (value.length < MIN_SECRET_LENGTH)
        warnings.push(at([...base, ...path, 'env'], `${ref.env} is shorter than ${MIN_SECRET_LENGTH} characters: use a long random value`));
      return value;
    };
    const integration: ResolvedIntegration = { id, type: config.type, enabled: true };
    switch (config.type) {
      case 'alertmanager':
      case 'grafana':
        if (config.token) integration.token = secret(['token'], config.token);
        if (config.basic)
          integration.basic = { username: config.basic.username, password: secret(['basic', 'password'], config.basic.password) };
        if (config.type === 'grafana' && config.hmac) {
          integration.hmac = {
            secret: secret(['hmac'], config.hmac),
            signatureHeaders: config.hmac.header ? [config.hmac.header.toLowerCase()] : GRAFANA_SIGNATURE_HEADERS,
            timestampHeader: config.hmac.timestampHeader?.toLowerCase(),
          };
        }
        break;
      case 'pagerduty': {
        const key = secret(['routingKey'], config.routingKey);
        // The key scopes dedup keys as `<key>\n<dedup_key>`; printable characters keep that unambiguous.
        if (key && !/^[\x21-\x7e]+$/.test(key))
          problems.push(at([...base, 'routingKey', 'env'], `${config.routingKey.env} must be printable ASCII without spaces`));
        integration.routingKey = key;
        break;
      }
      case 'generic':
        integration.hmac = { secret: secret(['hmac'], config.hmac), signatureHeaders: ['x-fireline-signature'] };
        break;
    }
    integration.enabled = enabled;
    resolved.push(integration);
  }
  problems.push(...sharedCredentialProblems(resolved, at));
  if (problems.length > 0) return { ok: false, problems: sortProblems(problems) };
  return { ok: true, integrations: new Integrations(resolved), warnings: sortProblems(warnings) };
}

function credentialProblem(config: IntegrationConfig): string | undefined {
  if (config.type === 'alertmanager' && !config.token && !config.basic) {
    return 'an alertmanager integration needs `token` (Bearer) or `basic` (Alertmanager cannot sign bodies)';
  }
  if (config.type === 'grafana' && !config.token && !config.basic && !config.hmac)
    return 'a grafana integration needs `token`, `basic` or `hmac`';
  return undefined;
}

/** Two integrations of one type with the same credential could not be told apart: alerts would go to either. */
function sharedCredentialProblems(integrations: ResolvedIntegration[], at: At): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const seen = new Map<string, string>();
  for (const i of integrations) {
    const credentials = [
      i.token && `${i.type}:token:${i.token}`,
      i.basic?.password && `${i.type}:basic:${i.basic.username}:${i.basic.password}`,
      i.routingKey && `${i.type}:key:${i.routingKey}`,
      i.hmac?.secret && !i.token && !i.basic && `${i.type}:hmac:${i.hmac.secret}`,
    ].filter((c): c is string => Boolean(c));
    for (const credential of credentials) {
      const other = seen.get(credential);
      if (other)
        problems.push(
          at(['integrations', i.id], `uses the same credential as integration "${other}": give each integration its own`, true),
        );
      else seen.set(credential, i.id);
    }
  }
  return problems;
}
