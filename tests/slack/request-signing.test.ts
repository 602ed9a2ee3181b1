// Slack's request signing: the freshness rule and the signatures of the reference fixtures.
import fs from 'node:fs';
import path from 'node:path';
import { slackTimestampIsFresh } from '../../src/slack/verify';
import { slackSignature } from '../support/fake-slack';

const FIXTURES = path.resolve(__dirname, '../fixtures/reference/slack');

test('request timestamps: within five minutes of now in both directions (Bolt alone accepts any future one)', () => {
  const now = 1_776_759_401_000;
  expect(slackTimestampIsFresh('1776759401', now)).toBe(true);
  expect(slackTimestampIsFresh(String(1_776_759_401 - 300), now)).toBe(true);
  expect(slackTimestampIsFresh(String(1_776_759_401 - 301), now)).toBe(false);
  expect(slackTimestampIsFresh(String(1_776_759_401 + 300), now)).toBe(true);
  expect(slackTimestampIsFresh(String(1_776_759_401 + 301), now)).toBe(false);
  expect(slackTimestampIsFresh(String(1_776_759_401 + 3600), now)).toBe(false);
  for (const bad of [undefined, '', 'abc', '1776759401.5', '-1', ['1776759401']]) expect(slackTimestampIsFresh(bad, now)).toBe(false);
});

test('the fixtures sign as documented (docs/reference/integrations.md §4.1, fixtures/README.md)', () => {
  const body = fs.readFileSync(path.join(FIXTURES, 'slash-command-incident-declare.txt'), 'utf8');
  expect(slackSignature('fireline-test-signing-secret', 1776759401, body)).toBe(
    'v0=66ea16cbb364e1396f4b165931331913b20bfb38a6e6c3619a186d5f50b7dd3d',
  );
  const vector =
    'command=%2Fincident&text=db+down&user_id=U1&channel_id=C1&team_id=T1&trigger_id=1.2.abc&response_url=http%3A%2F%2F127.0.0.1%3A9999%2Fresp';
  expect(slackSignature('test-signing-secret', 1700000000, vector)).toBe(
    'v0=0cd228fe3b31a9af94c019261ae1016920e33aeabe5be5bd281e73223e82eb94',
  );
});
