// A pretend order system for `fireline demo`: health, failover, restore, queue and backup endpoints on
// loopback that behave like the systems the demo runbook acts on. Its database is "down" until Fireline
// fails over or restores it. Nothing here is used by a real installation.
import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkSignature, SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../targets/sign';

/** How the pretend primary is doing: down until an action brings it back. */
export type PrimaryState = 'down' | 'failed-over' | 'restoring' | 'restored' | 'failed-back';

export interface DemoOrderSystemState {
  primary: PrimaryState;
  queue: 'flowing' | 'paused';
  backups: number;
}

export interface DemoOrderSystem {
  /** http://127.0.0.1:<port> */
  url: string;
  state(): DemoOrderSystemState;
  stop(): Promise<void>;
}

/** A restore "takes" this long, so the recover phase visibly waits for the health check. */
const RESTORE_MS = 4_000;
/** A backup answers "running" to this many polls before it is done. */
const BACKUP_POLLS = 1;
const MAX_BODY_BYTES = 64 * 1024;

interface Backup {
  id: string;
  polls: number;
  incidentId: string;
  restoreCheck: boolean;
}

/**
 * Starts the pretend order system on 127.0.0.1 (an ephemeral port unless given). Actions must carry a valid
 * X-Fireline-Signature made with `secret`, as a real receiver would insist; `log` hears what happened.
 */
export async function startDemoOrderSystem(opts: { secret: string; log: (line: string) => void; port?: number }): Promise<DemoOrderSystem> {
  const state: DemoOrderSystemState = { primary: 'down', queue: 'flowing', backups: 0 };
  const backups = new Map<string, Backup>();
  // Idempotency-Key → the answer given: a retried action is answered again without acting twice.
  const done = new Map<string, { status: number; body: unknown }>();
  let restoreTimer: NodeJS.Timeout | undefined;

  const healthy = () => state.primary === 'failed-over' || state.primary === 'restored';

  function act(key: string | undefined, what: () => { status: number; body: unknown }) {
    const earlier = key ? done.get(key) : undefined;
    if (earlier) return earlier;
    const answer = what();
    if (key) done.set(key, answer);
    return answer;
  }

  const actions: Record<string, (body: Record<string, unknown>) => { status: number; body: unknown }> = {
    '/failover': () => {
      state.primary = 'failed-over';
      opts.log('replica promoted: the order database takes writes again');
      return { status: 200, body: { promoted: 'orders-replica-1', primary: state.primary } };
    },
    '/failback': () => {
      state.primary = 'failed-back';
      opts.log('failed back to the original primary endpoint (which is still down)');
      return { status: 200, body: { primary: state.primary } };
    },
    '/restore': () => {
      state.primary = 'restoring';
      clearTimeout(restoreTimer);
      restoreTimer = setTimeout(() => {
        state.primary = 'restored';
        opts.log('restore finished: the restored primary takes writes');
      }, RESTORE_MS);
      restoreTimer.unref();
      opts.log(`restoring the latest backup onto a fresh primary (takes ${RESTORE_MS / 1000} s)`);
      return { status: 202, body: { primary: state.primary } };
    },
    '/queue/pause': () => {
      state.queue = 'paused';
      opts.log('order-queue consumers paused: new orders wait in the queue');
      return { status: 200, body: { queue: state.queue } };
    },
    '/queue/resume': () => {
      state.queue = 'flowing';
      opts.log('order-queue consumers resumed: queued orders are processed');
      return { status: 200, body: { queue: state.queue } };
    },
  };

  function route(method: string, path: string, raw: string, headers: http.IncomingHttpHeaders): { status: number; body: unknown } {
    if (method === 'GET' && path === '/health') {
      return healthy()
        ? { status: 200, body: { status: 'ok', primary: state.primary } }
        : { status: 503, body: { status: 'unavailable', primary: state.primary } };
    }
    if (method === 'GET' && path === '/') return { status: 200, body: { demo: true, ...state } };
    // The demo's own control, not something Fireline calls: another outage to declare an incident about.
    if (method === 'POST' && path === '/break') {
      state.primary = 'down';
      opts.log('the order database primary went down (again)');
      return { status: 200, body: { demo: true, ...state } };
    }
    const action = method === 'POST' ? actions[path] : undefined;
    if (action) {
      const check = checkSignature({
        secret: opts.secret,
        header: header(headers, SIGNATURE_HEADER),
        timestamp: header(headers, TIMESTAMP_HEADER),
        body: raw,
      });
      if (!check.ok) {
        opts.log(`refused ${path}: signature ${check.reason}`);
        return { status: 401, body: { error: `signature ${check.reason}` } };
      }
      return act(header(headers, 'Idempotency-Key'), () => action(parseObject(raw)));
    }
    if (method === 'POST' && path === '/backups') {
      const body = parseObject(raw);
      return act(header(headers, 'Idempotency-Key'), () => {
        const backup: Backup = {
          id: randomUUID(),
          polls: 0,
          incidentId: String(body.incidentId ?? ''),
          restoreCheck: body.restoreCheck === true,
        };
        backups.set(backup.id, backup);
        opts.log(`backup ${backup.id.slice(0, 8)} started${backup.restoreCheck ? ' (with a restore check)' : ''}`);
        return { status: 202, body: { id: backup.id, status: 'running' } };
      });
    }
    const backupMatch = method === 'GET' ? /^\/backups\/([0-9a-f-]{36})$/.exec(path) : null;
    if (backupMatch) {
      const backup = backups.get(backupMatch[1]!);
      if (!backup) return { status: 404, body: { error: 'no such backup' } };
      if (backup.polls++ < BACKUP_POLLS) return { status: 200, body: { status: 'running' } };
      if (backup.polls === BACKUP_POLLS + 1) {
        state.backups += 1;
        opts.log(`backup ${backup.id.slice(0, 8)} done`);
      }
      const content = `demo order database snapshot ${backup.id} for ${backup.incidentId}`;
      return {
        status: 200,
        body: {
          status: 'done',
          location: `demo://orders-db/backups/${backup.id}.dump`,
          sizeBytes: 48_213_504,
          sha256: createHash('sha256').update(content).digest('hex'),
          ...(backup.restoreCheck
            ? { restoreCheck: { ok: true, detail: 'restored into a scratch database; 1,204,332 orders, checksums match' } }
            : {}),
        },
      };
    }
    return { status: 404, body: { error: `no ${method} ${path} on the demo order system` } };
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://demo').pathname;
      const answer =
        size > MAX_BODY_BYTES
          ? { status: 413, body: { error: 'body too large' } }
          : route(req.method ?? 'GET', path, Buffer.concat(chunks).toString('utf8'), req.headers);
      res.writeHead(answer.status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    state: () => ({ ...state }),
    async stop() {
      clearTimeout(restoreTimer);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
    },
  };
}

function header(headers: http.IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

function parseObject(raw: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(raw);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
