import { startSlackHarness } from './harness';
import type { SlackHarness } from './harness';

let h: SlackHarness;
beforeAll(async () => {
  h = await startSlackHarness({ name: 'slack-smoke' });
});
afterAll(async () => {
  await h?.stop();
});

test('smoke', async () => {
  const res = await h.command('grace', 'declare sev1 Orders DB down', { responseId: 'smoke1' });
  expect(res.status).toBe(200);
  const answer = await h.response('smoke1');
  console.log(answer.body);
  const { items } = await h.store.listIncidents({ limit: 10 });
  const id = items[0]!.id;
  const { channel, card } = await h.card(id);
  console.log(channel, JSON.stringify(card.blocks, null, 1).slice(0, 3000));
  console.log(h.slack.calls.map((c) => `${c.method} ${c.status} ${c.error ?? ''}`));
});
