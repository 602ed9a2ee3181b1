import type { OnCallConfig, Person } from '../domain/oncall';
import type { Actor } from '../domain/roles';
import type { Logger } from '../logger';
import type { SlackGateway } from './gateway';
import { toSlackCallError } from './gateway';

export interface SlackIdentity {
  /** What the services are given: `{ id: 'slack:<user id>', name, role }`. */
  actor: Actor;
  /** The person in config/oncall.yaml, or null for a user Fireline does not know (a viewer). */
  person: Person | null;
}

export interface SlackDirectoryOptions {
  oncall: () => OnCallConfig;
  gateway: SlackGateway;
  logger: Logger;
  now?: () => number;
  /** How long an email → Slack id answer is trusted (default 1 h; a miss 10 minutes). */
  hitTtlMs?: number;
  missTtlMs?: number;
}

const SLACK_USER = /^[UW][A-Z0-9]{2,}$/;
const LOOKUP_CONCURRENCY = 4;

export function actorIdOf(slackUserId: string): string {
  return `slack:${slackUserId}`;
}

/** The Slack user id behind an actor that acted through Slack, else null. */
export function slackUserOfActor(actor: { id: string }): string | null {
  const match = /^slack:([UW][A-Z0-9]{2,})$/.exec(actor.id);
  return match ? match[1]! : null;
}

/**
 * Who a Slack user is in Fireline: the person in config/oncall.yaml whose `slack` member id it is, else the person
 * whose email Slack's users.lookupByEmail maps to that user (answers are cached). Their `role` (responder unless
 * set) decides what they may do; a user Fireline does not know is a viewer.
 */
export class SlackDirectory {
  private readonly emails = new Map<string, { id: string | null; at: number }>();
  private readonly pending = new Map<string, Promise<string | null | undefined>>();
  private readonly now: () => number;
  private readonly hitTtlMs: number;
  private readonly missTtlMs: number;

  constructor(private readonly options: SlackDirectoryOptions) {
    this.now = options.now ?? Date.now;
    this.hitTtlMs = options.hitTtlMs ?? 3_600_000;
    this.missTtlMs = options.missTtlMs ?? 600_000;
  }

  async identify(userId: string, slackName?: string): Promise<SlackIdentity> {
    const person = SLACK_USER.test(userId) ? await this.personOfSlackUser(userId) : null;
    const name = person?.name ?? (slackName?.trim() || userId || 'unknown Slack user');
    return { actor: { id: actorIdOf(userId), name: name.slice(0, 200), role: person?.role ?? 'viewer' }, person };
  }

  personById(id: string): Person | undefined {
    return this.options.oncall().people.find((p) => p.id === id);
  }

  /**
   * The person's Slack member id: from the config, else by email; null when Slack does not know them, undefined when
   * Slack could not be asked just now.
   */
  async slackIdOfPerson(personId: string): Promise<string | null | undefined> {
    const person = this.personById(personId);
    if (!person) return null;
    if (person.slack) return person.slack;
    if (!person.email) return null;
    return this.lookup(person.email);
  }

  private async personOfSlackUser(userId: string): Promise<Person | null> {
    const people = this.options.oncall().people;
    const direct = people.find((p) => p.slack === userId);
    if (direct) return direct;
    const byEmail = people.filter((p) => !p.slack && p.email);
    for (let i = 0; i < byEmail.length; i += LOOKUP_CONCURRENCY) {
      const batch = byEmail.slice(i, i + LOOKUP_CONCURRENCY);
      const ids = await Promise.all(batch.map((p) => this.lookup(p.email!)));
      const index = ids.indexOf(userId);
      if (index >= 0) return batch[index]!;
    }
    return null;
  }

  /** Slack id for an email (null: no such user; undefined: Slack could not answer now, try later). */
  private lookup(email: string): Promise<string | null | undefined> {
    const key = email.toLowerCase();
    const cached = this.emails.get(key);
    if (cached && this.now() - cached.at < (cached.id ? this.hitTtlMs : this.missTtlMs)) return Promise.resolve(cached.id);
    const running = this.pending.get(key);
    if (running) return running;
    const lookup = (async () => {
      try {
        const result = await this.options.gateway.call<{ user?: { id?: string; deleted?: boolean } }>(
          'users.lookupByEmail',
          { email },
          { channel: 'users.lookupByEmail', maxWaitMs: 0 },
        );
        const id = result.user && !result.user.deleted && result.user.id ? result.user.id : null;
        this.emails.set(key, { id, at: this.now() });
        return id;
      } catch (error) {
        const failure = toSlackCallError(error, 'users.lookupByEmail');
        if (failure.slackError === 'users_not_found') {
          this.emails.set(key, { id: null, at: this.now() });
          return null;
        }
        this.options.logger.warn({ err: failure.message }, 'slack: users.lookupByEmail failed; the user stays unmapped for now');
        return undefined;
      } finally {
        this.pending.delete(key);
      }
    })();
    this.pending.set(key, lookup);
    return lookup;
  }
}
