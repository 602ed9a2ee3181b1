import os from 'node:os';
import { Client, Connection } from '@temporalio/client';
import type { Config } from '../config';
import type { KeyRing } from '../crypto/key-ring';
import type { IncidentRecord } from '../domain/incident';
import type { Logger } from '../logger';
import { RunbookCatalog } from '../runbooks/catalog';
import { cliActionContext } from '../services/audit';
import { createIncidentService } from '../services/incidents';
import { firelineDataConverter } from '../temporal/codec';
import { temporalConnectionOptions } from '../temporal/connection-options';
import type { AuditStore, IdempotencyStore, IncidentStore, TimelineStore } from '../store/store';

const POLL_MS = 1000;

/**
 * `fireline drill run`: declares a drill of a runbook through the same use case as the API, then prints its
 * timeline as it grows. People answer its decisions and tasks as in a real incident (API, Slack, web page).
 */
export async function runDrill(opts: {
  config: Config;
  logger: Logger;
  store: AuditStore & IdempotencyStore & IncidentStore & TimelineStore;
  address: string;
  keys: KeyRing;
  runbookId: string;
  follow: boolean;
  write: (line: string) => void;
}): Promise<IncidentRecord> {
  const connection = await Connection.connect(temporalConnectionOptions(opts.config, opts.address));
  try {
    const client = new Client({ connection, namespace: opts.config.TEMPORAL_NAMESPACE, dataConverter: firelineDataConverter(opts.keys) });
    const incidents = createIncidentService({
      client,
      store: opts.store,
      runbooks: new RunbookCatalog(opts.config.runbooksDir),
      taskQueue: opts.config.FIRELINE_TASK_QUEUE,
      logger: opts.logger,
    });
    const user = os.userInfo().username;
    const incident = await incidents.declare(
      { title: `Drill: ${opts.runbookId}`, runbook: opts.runbookId, drill: true },
      cliActionContext(user, 'drill run'),
    );
    opts.write(`Drill ${incident.id} of runbook ${incident.runbookId} (version ${incident.runbookVersion.slice(0, 12)}) started.`);
    opts.write(`Answer its decisions and tasks through ${opts.config.publicUrl}/api/v1/incidents/${incident.id}.`);
    if (!opts.follow) return incident;
    let seq = 0;
    for (;;) {
      const events = await opts.store.listTimeline(incident.id, { afterSeq: seq, limit: 500 });
      for (const e of events) {
        opts.write(`${e.at}  ${e.phase.padEnd(13)} ${e.type.padEnd(22)} ${e.summary}`);
        seq = e.seq;
      }
      const row = await opts.store.getIncident(incident.id);
      if (row?.status === 'closed' && events.length === 0) return row;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  } finally {
    await connection.close();
  }
}
