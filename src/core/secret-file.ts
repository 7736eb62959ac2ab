import { readFileSync } from 'node:fs';
import { ForecastError } from './errors.js';

/**
 * A credential or CA read from a file (a mounted Secret), trimmed. An unreadable file is a
 * CONFIG_INVALID naming the variable and the path, never its content.
 */
export function readSecretFile(path: string, envName: string, field?: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (cause) {
    throw new ForecastError('CONFIG_INVALID', `${envName}: cannot read ${path} (${(cause as Error).message}); mount the Secret there or unset it`, { ...(field ? { field } : {}), cause });
  }
}
