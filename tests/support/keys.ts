// The payload key ring every test process shares: in-process clients and workers, and `fireline worker` /
// `fireline api` children against the shared dev server, so each side can read what the other sealed.
import type { DataConverter } from '@temporalio/common';
import { parseKeyRing } from '../../src/crypto/key-ring';
import type { KeyRing } from '../../src/crypto/key-ring';
import { firelineDataConverter } from '../../src/temporal/codec';

/** FIRELINE_PAYLOAD_KEYS for test children. Fixed, so a child started later still opens older histories. */
export const TEST_PAYLOAD_KEYS = 'test-k1=dGVzdC1wYXlsb2FkLWtleS0zMi1ieXRlcy1sb25nISE=';

export const TEST_KEY_RING: KeyRing = parseKeyRing(TEST_PAYLOAD_KEYS);

export function testDataConverter(keys: KeyRing = TEST_KEY_RING): DataConverter {
  return firelineDataConverter(keys);
}
