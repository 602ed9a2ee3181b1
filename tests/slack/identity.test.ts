// Slack users → Fireline people and roles, through the gateway and the fake Web API.
import { createLogger } from '../../src/logger';
import { parseOnCall } from '../../src/oncall/load';
import { createSlackWebClient, SlackGateway } from '../../src/slack/gateway';
import { SlackDirectory } from '../../src/slack/identity';
import { FakeSlack } from '../support/fake-slack';
import { ONCALL_YAML, USERS, VirtualClock } from './harness';

const logger = createLogger({ level: 'silent' });

describe('identity', () => {
  let slack: FakeSlack;
  let clock: VirtualClock;
  let gateway: SlackGateway;
  beforeEach(async () => {
    clock = new VirtualClock();
    slack = await FakeSlack.start({
      now: () => clock.now(),
      channels: [
        { id: 'C1', name: 'one' },
        { id: 'C2', name: 'two' },
      ],
    });
    gateway = new SlackGateway({ client: createSlackWebClient(slack.token, slack.apiUrl), logger, clock });
  });
  afterEach(async () => {
    await slack.close();
  });

  test('Slack users map to people by member id, else by email (looked up once), else they are viewers', async () => {
    slack.addUser({ id: USERS.eve.id, name: 'eve', email: 'eve@example.com' });
    const parsed = parseOnCall(ONCALL_YAML, 'oncall.yaml');
    if (!parsed.ok) throw new Error('bad test config');
    const directory = new SlackDirectory({ oncall: () => parsed.config, gateway, logger });
    expect(await directory.identify(USERS.grace.id, 'grace')).toMatchObject({
      actor: { id: 'slack:U0GRACE', name: 'Grace Hopper', role: 'commander' },
      person: { id: 'grace' },
    });
    expect((await directory.identify(USERS.linus.id)).actor).toEqual({ id: 'slack:U0LINUS', name: 'Linus Responder', role: 'responder' });
    expect((await directory.identify(USERS.vera.id)).actor.role).toBe('viewer');
    expect((await directory.identify(USERS.eve.id)).actor).toEqual({ id: 'slack:U0EVE', name: 'Eve Byemail', role: 'commander' });
    expect(await directory.identify('U0NOBODY', 'nobody')).toEqual({
      actor: { id: 'slack:U0NOBODY', name: 'nobody', role: 'viewer' },
      person: null,
    });
    expect(await directory.slackIdOfPerson('eve')).toBe(USERS.eve.id);
    expect(slack.callsTo('users.lookupByEmail')).toHaveLength(1);
  });
});
