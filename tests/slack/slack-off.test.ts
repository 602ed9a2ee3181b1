// Without Slack settings the Slack halves of the API and worker stay off and say so.
import pino from 'pino';
import { loadConfig } from '../../src/config';
import { SLACK_OFF_MESSAGE, startSlackApi, startSlackWorker } from '../../src/slack';

test('without Slack settings both halves stay off and say so', async () => {
  const lines: string[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
  const config = loadConfig({});
  const unused = {} as never;
  expect(
    await startSlackApi({ config, logger: log, store: unused, incidents: unused, runbooks: unused, oncall: () => unused }),
  ).toBeUndefined();
  expect(startSlackWorker({ config, logger: log, store: unused, oncall: () => unused })).toBeUndefined();
  expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual([SLACK_OFF_MESSAGE, SLACK_OFF_MESSAGE]);
  expect(SLACK_OFF_MESSAGE).toMatch(/^Slack is off/);
});
