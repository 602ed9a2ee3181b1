// Slack users → Fireline people and roles, through the gateway and the fake Web API.
import { createLogger } from '../../src/logger';
import { parseOnCall } from '../../src/oncall/load';
import { SlackDirectory } from '../../src/slack/identity';
import { ONCALL_YAML, USERS, useGatewayOnFakeSlack } from './harness';

const logger = createLogger({ level: 'silent' });

describe('identity', () => {
  const env = useGatewayOnFakeSlack();

  test('Slack users map to people by member id, else by email (looked up once), else they are viewers', async () => {
    env.slack.addUser({ id: USERS.eve.id, name: 'eve', email: 'eve@example.com' });
    const parsed = parseOnCall(ONCALL_YAML, 'oncall.yaml');
    if (!parsed.ok) throw new Error('bad test config');
    const directory = new SlackDirectory({ oncall: () => parsed.config, gateway: env.gateway, logger });
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
    expect(env.slack.callsTo('users.lookupByEmail')).toHaveLength(1);
  });
});
