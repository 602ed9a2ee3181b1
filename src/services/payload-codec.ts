import type { Payload } from '@temporalio/common';
import type { KeyRing } from '../crypto/key-ring';
import { EncryptionCodec } from '../temporal/codec';
import { invalidField } from './errors';

/**
 * The codec server's use case (Temporal Web UI and CLI `--codec-endpoint`): the payloads of a history in and
 * out of Fireline's encryption, with the same key ring as the workers. Same count out as in, same order.
 */
export interface PayloadCodecService {
  encode(payloads: Payload[]): Promise<Payload[]>;
  /** Passes through payloads that are not encrypted; a payload that does not open fails naming its index. */
  decode(payloads: Payload[]): Promise<Payload[]>;
}

export function createPayloadCodecService(deps: { keys: KeyRing }): PayloadCodecService {
  const codec = new EncryptionCodec(deps.keys);
  // One at a time, so a failure names the payload; the ring's messages name key ids, never key material.
  const each = async (payloads: Payload[], step: (p: Payload[]) => Promise<Payload[]>, what: string) => {
    const out: Payload[] = [];
    for (const [i, payload] of payloads.entries()) {
      try {
        out.push(...(await step([payload])));
      } catch (err) {
        throw invalidField(`payloads.${i}`, `could not be ${what}: ${(err as Error).message}`);
      }
    }
    return out;
  };
  return {
    encode: (payloads) => each(payloads, (p) => codec.encode(p), 'encoded'),
    decode: (payloads) => each(payloads, (p) => codec.decode(p), 'decoded'),
  };
}
