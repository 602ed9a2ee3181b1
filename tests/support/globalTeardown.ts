import fs from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __firelineDevServer?: { stop(): Promise<void> } }).__firelineDevServer?.stop();
  const dir = process.env.FIRELINE_TEST_TMP;
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}
