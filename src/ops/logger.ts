import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON logs to stderr (stdout stays free for command output such as the demo summary). */
export function createLogger(level: string, name = 'forecast-stream'): Logger {
  return pino({ name, level }, pino.destination({ dest: 2, sync: false }));
}
