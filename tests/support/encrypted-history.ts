// What the Temporal server stores for a workflow, read raw (no data converter), and checks on its payloads.
import type { Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { EncryptionCodec, isEncrypted } from '../../src/temporal/codec';
import type { KeyRing } from '../../src/crypto/key-ring';

type History = temporal.api.history.v1.IHistory;

/**
 * Fields the SDK never runs through payload codecs, by design: the server indexes search attributes, and
 * headers belong to interceptors. Everything else that is a Payload must be sealed.
 */
const NOT_CODEC_FIELDS = new Set(['searchAttributes', 'header']);

/** Every Payload object in a history, found by walking it rather than by a list of fields. */
export function historyPayloads(history: History): { path: string; payload: Payload }[] {
  const found: { path: string; payload: Payload }[] = [];
  const walk = (value: unknown, path: string): void => {
    if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return;
    if (value instanceof temporal.api.common.v1.Payload) {
      found.push({ path, payload: value as Payload });
      return;
    }
    if (Array.isArray(value)) {
      value.forEach((item, i) => walk(item, `${path}[${i}]`));
      return;
    }
    for (const [key, child] of Object.entries(value)) {
      if (!NOT_CODEC_FIELDS.has(key)) walk(child, `${path}.${key}`);
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

/** Asserts the server holds no payload of this workflow in the clear, and that there were payloads to check. */
export async function expectHistoryEncrypted(client: Client, workflowId: string): Promise<{ payloads: number }> {
  const payloads = historyPayloads(await rawHistory(client, workflowId));
  const clear = payloads.filter(({ payload }) => !isEncrypted(payload)).map(({ path }) => path);
  expect(clear).toEqual([]);
  // The incident's input, results and activity arguments at least: a walk that found nothing checked nothing.
  expect(payloads.length).toBeGreaterThan(3);
  return { payloads: payloads.length };
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
