import { ConfigError } from '../config';
import type { Config } from '../config';
import { KeyRingError, loadOrCreateKeyRing, parseKeyRing } from '../crypto/key-ring';
import type { KeyRing } from '../crypto/key-ring';

/**
 * The key ring of this process: FIRELINE_PAYLOAD_KEYS when set; else, embedded only, the key file in the data
 * dir (made on first start). With an external Temporal every worker and API replica must share one ring, so a
 * per-machine file would make histories unreadable to the next replica: the setting is then required.
 */
export async function resolveKeyRing(config: Config): Promise<KeyRing> {
  if (config.FIRELINE_PAYLOAD_KEYS !== undefined) {
    try {
      return parseKeyRing(config.FIRELINE_PAYLOAD_KEYS);
    } catch (err) {
      if (err instanceof KeyRingError) throw new ConfigError([`FIRELINE_PAYLOAD_KEYS: ${err.message}`]);
      throw err;
    }
  }
  if (config.TEMPORAL_ADDRESS !== undefined) {
    throw new ConfigError([
      'FIRELINE_PAYLOAD_KEYS: required with TEMPORAL_ADDRESS, the same on every replica; make one with `fireline keys new`',
    ]);
  }
  return loadOrCreateKeyRing(config.dataDir);
}
