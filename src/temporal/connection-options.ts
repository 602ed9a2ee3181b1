import fs from 'node:fs';
import type { TLSConfig } from '@temporalio/common/lib/internal-non-workflow';
import { ConfigError } from '../config';
import type { Config } from '../config';

export type TemporalConnectionConfig = Pick<
  Config,
  | 'TEMPORAL_NAMESPACE'
  | 'TEMPORAL_TLS'
  | 'TEMPORAL_TLS_CERT_PATH'
  | 'TEMPORAL_TLS_KEY_PATH'
  | 'TEMPORAL_TLS_CA_PATH'
  | 'TEMPORAL_TLS_SERVER_NAME'
  | 'TEMPORAL_API_KEY'
>;

/** What both `Connection.connect` (client) and `NativeConnection.connect` (worker) accept. */
export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig;
  apiKey?: string;
  metadata?: Record<string, string>;
}

/**
 * The one place the TEMPORAL_* settings become connection options, so the API, the worker and the CLI connect the
 * same way. Certificate files are read here, at start-up: a missing or unreadable file stops the process with the
 * variable and path named, instead of an opaque handshake error on the first call.
 */
export function temporalConnectionOptions(config: TemporalConnectionConfig, address: string): TemporalConnectionOptions {
  const problems: string[] = [];
  const pem = (name: keyof TemporalConnectionConfig): Buffer | undefined => {
    const file = config[name];
    if (typeof file !== 'string') return undefined;
    let content: Buffer;
    try {
      content = fs.readFileSync(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable' : `cannot be read (${code ?? 'error'})`;
      problems.push(`${name}: ${file} ${why}`);
      return undefined;
    }
    // The native worker reports a malformed certificate only as a handshake failure; say which file is wrong.
    if (!content.includes('-----BEGIN ')) {
      problems.push(`${name}: ${file} is not a PEM file (no -----BEGIN line)`);
      return undefined;
    }
    return content;
  };
  const crt = pem('TEMPORAL_TLS_CERT_PATH');
  const key = pem('TEMPORAL_TLS_KEY_PATH');
  const ca = pem('TEMPORAL_TLS_CA_PATH');
  if (problems.length > 0) throw new ConfigError(problems);

  const apiKey = config.TEMPORAL_API_KEY;
  const tlsOn =
    config.TEMPORAL_TLS ?? (crt !== undefined || ca !== undefined || config.TEMPORAL_TLS_SERVER_NAME !== undefined || apiKey !== undefined);
  if (!tlsOn) return { address };
  const tls: TLSConfig = {
    ...(crt && key ? { clientCertPair: { crt, key } } : {}),
    ...(ca ? { serverRootCACertificate: ca } : {}),
    ...(config.TEMPORAL_TLS_SERVER_NAME ? { serverNameOverride: config.TEMPORAL_TLS_SERVER_NAME } : {}),
  };
  if (apiKey === undefined) return { address, tls };
  // Temporal Cloud routes API-key calls on its regional endpoints by this header; namespace endpoints ignore it.
  return { address, tls, apiKey, metadata: { 'temporal-namespace': config.TEMPORAL_NAMESPACE } };
}
