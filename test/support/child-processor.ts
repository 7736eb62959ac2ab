import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { configToEnv, type Config } from '../../src/ops/config.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/** Environment that points `forecast-stream run` at a test config. */
export function envFor(c: Config): NodeJS.ProcessEnv {
  return { ...process.env, ...configToEnv(c), FS_METRICS_PORT: '0', FS_LOG_LEVEL: 'info' };
}

/** A TCP port free on loopback right now (for a child's metrics/probe server). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/**
 * Start the compiled CLI's `run` as a separate process; resolves once it logged "started".
 * Its probes and metrics listen on `httpPort` (FS_METRICS_PORT of `env`, else a free port).
 */
export async function startChildProcessor(c: Config, env: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; log: () => string; httpPort: number }> {
  const httpPort = env.FS_METRICS_PORT ? Number(env.FS_METRICS_PORT) : await freePort();
  const child = spawn(process.execPath, [CLI, 'run'], { env: { ...envFor(c), FS_METRICS_PORT: String(httpPort), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
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
  return { child, log: () => out, httpPort };
}
