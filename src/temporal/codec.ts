import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { ValueError } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { KeyRing } from '../crypto/key-ring';

export const ENCODING_ENCRYPTED = 'binary/encrypted';
export const METADATA_KEY_ID = 'encryption-key-id';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * AES-256-GCM over the whole serialized payload (metadata included, so even the encoding is hidden), the key
 * id in clear metadata. Wire-compatible with Temporal's encryption samples and their codec servers.
 */
export class EncryptionCodec implements PayloadCodec {
  constructor(private readonly keys: KeyRing) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const { keyId, sealed } = this.keys.seal(temporal.api.common.v1.Payload.encode(payload).finish());
      return {
        metadata: { encoding: encoder.encode(ENCODING_ENCRYPTED), [METADATA_KEY_ID]: encoder.encode(keyId) },
        data: sealed,
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      // Histories written before encryption was on (and CLI exports already decoded) still read and replay.
      if (!isEncrypted(payload)) return payload;
      const keyIdBytes = payload.metadata?.[METADATA_KEY_ID];
      if (!payload.data || !keyIdBytes) throw new ValueError('encrypted payload without data or key id');
      const plain = this.keys.open(decoder.decode(keyIdBytes), payload.data);
      return temporal.api.common.v1.Payload.decode(plain) as Payload;
    });
  }
}

export function isEncrypted(payload: Payload): boolean {
  const encoding = payload.metadata?.encoding;
  return encoding !== undefined && decoder.decode(encoding) === ENCODING_ENCRYPTED;
}

/** The one data converter every Client, Worker and replay in Fireline uses. */
export function firelineDataConverter(keys: KeyRing): DataConverter {
  return { payloadCodecs: [new EncryptionCodec(keys)] };
}
