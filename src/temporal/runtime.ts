import { Runtime } from '@temporalio/worker';
import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import type { Logger } from '../logger';

let installed = false;

/** Routes the SDK's own logs (workers, workflow `log`) through pino. Must run before any worker or native connection. */
export function installTemporalRuntime(logger: Logger): void {
  if (installed) return;
  installed = true;
  const child = logger.child({ component: 'temporal' });
  const write = (level: LogLevel, message: string, meta?: LogMetadata) => {
    const method = ({ TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const)[level];
    child[method](meta ?? {}, message);
  };
  const adapter: TemporalLogger = {
    log: write,
    trace: (m, meta) => write('TRACE', m, meta),
    debug: (m, meta) => write('DEBUG', m, meta),
    info: (m, meta) => write('INFO', m, meta),
    warn: (m, meta) => write('WARN', m, meta),
    error: (m, meta) => write('ERROR', m, meta),
  };
  // Fireline's entry points own SIGINT/SIGTERM: the SDK's own handling would stop a worker still starting
  // while the rest of the stack kept running.
  Runtime.install({ logger: adapter, shutdownSignals: [] });
}
