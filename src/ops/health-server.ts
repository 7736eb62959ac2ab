import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export interface HealthSource {
  /** Process is alive and not wedged. */
  live(): boolean;
  /** Connected to Kafka and Redis with a model loaded: can take traffic. */
  ready(): boolean;
  /** Status document: provider, breaker, drift, batcher. */
  status(): Record<string, unknown>;
}

/** /metrics (Prometheus), /healthz (liveness), /readyz (readiness), /status (JSON). */
export async function startHealthServer(port: number, registry: Registry, health: HealthSource): Promise<Server> {
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    if (url.startsWith('/metrics')) {
      registry
        .metrics()
        .then((text) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(text);
        })
        .catch((err: Error) => {
          res.writeHead(500);
          res.end(err.message);
        });
      return;
    }
    if (url.startsWith('/healthz') || url.startsWith('/readyz')) {
      const ok = url.startsWith('/healthz') ? health.live() : health.ready();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(ok ? 'ok\n' : 'not ready\n');
      return;
    }
    if (url.startsWith('/status')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(health.status(), null, 2));
      return;
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '0.0.0.0', () => resolve());
  });
  return server;
}
