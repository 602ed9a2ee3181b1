// What the Temporal server stores for a workflow, read raw (no data converter), and checks on its payloads.
import type { Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { EncryptionCodec, METADATA_KEY_ID, isEncrypted } from '../../src/temporal/codec';
import type { KeyRing } from '../../src/crypto/key-ring';

type History = temporal.api.history.v1.IHistory;

/**
 * Fields the SDK never runs through payload codecs, by design: the server indexes search attributes, and
 * headers belong to interceptors. Everything else that is a Payload must be sealed.
 */
const NOT_CODEC_FIELDS = new Set(['searchAttributes', 'header']);

/**
 * Marker details sdk-core writes itself, past the codecs: a local activity's bookkeeping (type, seq, times; its
 * `result` is sealed) and a patch's id. The secrets check in expectHistoryEncrypted still covers them.
 */
const CORE_MARKER_DETAILS: Record<string, readonly string[]> = { core_local_activity: ['data'], core_patch: ['patch-data'] };

const PAYLOAD_FIELDS = new Set(['metadata', 'data', 'externalPayloads']);
/** At run time a protobufjs reflection type, whose decoded messages are instances of its `ctor`. */
const PayloadMessage = (temporal.api.common.v1.Payload as unknown as { ctor: abstract new () => object }).ctor;

/**
 * A Payload message: decoded from the wire it is an instance of the message class; parsed from JSON
 * (historyFromJSON) a plain object with only Payload's fields and byte-valued metadata.
 */
function isPayload(value: object): value is Payload {
  if (value instanceof PayloadMessage) return true;
  const metadata = (value as { metadata?: unknown }).metadata;
  return (
    Object.keys(value).every((k) => PAYLOAD_FIELDS.has(k)) &&
    typeof metadata === 'object' &&
    metadata !== null &&
    Object.values(metadata).every((v) => ArrayBuffer.isView(v))
  );
}

/** Every Payload object in a history, found by walking it rather than by a list of fields. */
export function historyPayloads(history: History): { path: string; payload: Payload }[] {
  const found: { path: string; payload: Payload }[] = [];
  const walk = (value: unknown, path: string): void => {
    if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return;
    if (!Array.isArray(value) && isPayload(value)) {
      found.push({ path, payload: value });
      return;
    }
    if (Array.isArray(value)) {
      value.forEach((item, i) => walk(item, `${path}[${i}]`));
      return;
    }
    const marker = value as temporal.api.history.v1.IMarkerRecordedEventAttributes;
    const coreOwned = (marker.markerName && CORE_MARKER_DETAILS[marker.markerName]) || [];
    for (const [key, child] of Object.entries(value)) {
      if (NOT_CODEC_FIELDS.has(key)) continue;
      if (key === 'details' && coreOwned.length > 0) {
        for (const [detail, payloads] of Object.entries(child as object)) {
          if (!coreOwned.includes(detail)) walk(payloads, `${path}.details.${detail}`);
        }
        continue;
      }
      walk(child, `${path}.${key}`);
    }
  };
  (history.events ?? []).forEach((event, i) => walk(event, `events[${i}]`));
  return found;
}

/** The history exactly as the server stores it, every page. */
export async function rawHistory(client: Client, workflowId: string, runId?: string): Promise<History> {
  const events: temporal.api.history.v1.IHistoryEvent[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await client.workflowService.getWorkflowExecutionHistory({
      namespace: client.options.namespace,
      execution: { workflowId, runId },
      nextPageToken,
    });
    events.push(...(page.history?.events ?? []));
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return { events };
}

/**
 * Asserts the server holds no payload of this workflow in the clear (and that there were payloads to check),
 * and that none of `secrets` occurs anywhere in the history's bytes, payload or not.
 */
export async function expectHistoryEncrypted(
  client: Client,
  workflowId: string,
  secrets: string[] = [],
): Promise<{ payloads: number; keyIds: string[] }> {
  const history = await rawHistory(client, workflowId);
  const payloads = historyPayloads(history);
  const clear = payloads.filter(({ payload }) => !isEncrypted(payload)).map(({ path }) => path);
  expect(clear).toEqual([]);
  // The incident's input, results and activity arguments at least: a walk that found nothing checked nothing.
  expect(payloads.length).toBeGreaterThan(3);
  const bytes = Buffer.from(temporal.api.history.v1.History.encode(history).finish());
  expect(secrets.filter((s) => bytes.includes(s))).toEqual([]);
  const keyIds = new Set(payloads.map(({ payload }) => Buffer.from(payload.metadata![METADATA_KEY_ID]!).toString()));
  return { payloads: payloads.length, keyIds: [...keyIds].sort() };
}

/** The history with every payload opened, as `temporal workflow show --codec-endpoint` exports it. Mutates it. */
export async function decodeHistory(history: History, keys: KeyRing): Promise<History> {
  const codec = new EncryptionCodec(keys);
  for (const { payload } of historyPayloads(history)) {
    const [plain] = await codec.decode([payload]);
    payload.metadata = plain!.metadata;
    payload.data = plain!.data;
  }
  return history;
}
