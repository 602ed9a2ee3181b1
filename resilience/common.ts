// Shared pieces of `npm run resilience`: the table row, the run context every scenario gets, small statistics.
import type { Client, Connection } from '@temporalio/client';
import type { HistoryAndWorkflowId } from '@temporalio/client';

export interface Row {
  scenario: string;
  runs: number;
  figure: string;
  /** What the figure must be ('reported' when it is only measured). */
  target: string;
  /** false fails the run. undefined = reported only. */
  ok: boolean | undefined;
  value: string;
}

export interface RunContext {
  short: boolean;
  seed: number;
  /** host:port of the dev server every scenario shares (namespace `default`). */
  address: string;
  client: Client;
  connection: Connection;
  /** The workflow bundle written once, for in-process workers and the replay gate. */
  bundlePath: string;
  /** A seeded PRNG in [0, 1); each scenario draws its own stream from the run seed. */
  random: (stream: string) => () => number;
  log: (message: string) => void;
  /** Histories the scenarios produced, for the replay gate. */
  histories: HistoryAndWorkflowId[];
}

export interface Scenario {
  name: string;
  run(ctx: RunContext): Promise<Row[]>;
}

/** A figure with a target of exactly `target` (a count). */
export function countRow(scenario: string, runs: number, figure: string, value: number, target = 0): Row {
  return { scenario, runs, figure, target: String(target), ok: value === target, value: String(value) };
}

export function reportedRow(scenario: string, runs: number, figure: string, value: string): Row {
  return { scenario, runs, figure, target: 'reported', ok: undefined, value };
}

export function seconds(ms: number): string {
  return Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : 'n/a';
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Races `promise` against a deadline, so a scenario never hangs the whole run. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A 32-bit seed for one named stream of the run seed (FNV-1a over the name, mixed with the seed). */
export function streamSeed(seed: number, stream: string): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < stream.length; i++) h = Math.imul(h ^ stream.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export function pick<T>(rng: () => number, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)]!;
}

export function formatTable(rows: Row[]): string {
  const header = ['scenario', 'runs', 'figure', 'target', 'value', 'result'];
  const cells = rows.map((r) => [
    r.scenario,
    String(r.runs),
    r.figure,
    r.target,
    r.value,
    r.ok === undefined ? '-' : r.ok ? 'ok' : 'MISSED',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) =>
    c
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}
