import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { configToEnv, type Config } from '../../src/ops/config.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/** Environment that points `forecast-stream run` at a test config. */
export function envFor(c: Config): NodeJS.ProcessEnv {
  return { ...process.env, ...configToEnv(c), FS_METRICS_PORT: '0', FS_LOG_LEVEL: 'info' };
}

/** Start the compiled CLI's `run` as a separate process; resolves once it logged "started". */
export async function startChildProcessor(c: Config, env: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; log: () => string }> {
  const child = spawn(process.execPath, [CLI, 'run'], { env: { ...envFor(c), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`processor did not start in 60 s:\n${out}`)), 60_000);
    const check = () => {
      if (out.includes('forecast-stream processor started')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`processor exited with ${code} before starting:\n${out}`));
    });
  });
  return { child, log: () => out };
}
