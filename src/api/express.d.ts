import type { Logger } from 'pino';
import type { TokenRecord } from '../store/store';

declare global {
  namespace Express {
    interface Request {
      id: string;
      log: Logger;
      auth?: TokenRecord;
    }
  }
}

export {};
