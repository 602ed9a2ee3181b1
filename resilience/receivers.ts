// The systems a runbook acts on, as one HTTP server on 127.0.0.1: a remediation webhook and an HTTP backup
// service, both of which deduplicate by Idempotency-Key the way a careful receiver does. What they record is
// what the figures count: a side effect applied twice means two different keys (or none) for one step.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface WebhookDelivery {
  key: string | undefined;
  at: number;
}

export interface BackupJob {
  id: string;
  key: string;
  startedAt: number;
}

export class Receivers {
  /** Every remediation request, in arrival order (retries included). */
  readonly deliveries: WebhookDelivery[] = [];
  /** Side effects applied: one per distinct key (a request without a key always applies). */
  readonly applied: { key: string | undefined; at: number }[] = [];
  /** Backups created: one per distinct key. */
  readonly backups: BackupJob[] = [];
  /** Every backup start call, retries included. */
  readonly backupStarts: { key: string | undefined; at: number }[] = [];
  /** How long a remediation waits before it answers (the window a kill can land in). */
  webhookHoldMs = 500;
  /** How long a backup runs before its status says done. */
  backupMs = 3000;

  private server: http.Server | undefined;
  private nextId = 1;
  private readonly sockets = new Set<Socket>();

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const key = headerValue(req.headers['idempotency-key']);
    const url = req.url ?? '/';
    const send = (status: number, body: unknown) => {
      if (res.destroyed) return;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'POST' && url === '/remediate') {
      const at = Date.now();
      this.deliveries.push({ key, at });
      if (key === undefined || !this.applied.some((a) => a.key === key)) this.applied.push({ key, at });
      await new Promise((r) => setTimeout(r, this.webhookHoldMs));
      return send(200, { ok: true });
    }
    if (req.method === 'POST' && url === '/backup/start') {
      this.backupStarts.push({ key, at: Date.now() });
      const existing = key === undefined ? undefined : this.backups.find((b) => b.key === key);
      const job = existing ?? { id: `b${this.nextId++}`, key: key ?? `none-${this.nextId}`, startedAt: Date.now() };
      if (!existing) this.backups.push(job);
      return send(202, { id: job.id });
    }
    const status = /^\/backup\/status\/([^/?]+)/.exec(url);
    if (req.method === 'GET' && status) {
      const job = this.backups.find((b) => b.id === decodeURIComponent(status[1]!));
      if (!job) return send(404, { error: 'no such backup' });
      if (Date.now() - job.startedAt < this.backupMs) return send(200, { status: 'running' });
      return send(200, { status: 'done', location: `s3://backups/${job.id}`, sizeBytes: 1024 });
    }
    send(404, { error: 'not found' });
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
