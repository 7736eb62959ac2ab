import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';

export interface HealthSource {
  /** Process is alive and not wedged. */
  live(): boolean;
  /** Connected to Kafka and Redis with a model loaded: can take traffic. */
  ready(): boolean;
  /** Status document: provider, breaker, drift, batcher. */
  status(): Record<string, unknown>;
}

/** A JSON POST endpoint: the parsed body in, a status and a JSON document out. */
export type JsonHandler = (body: unknown) => Promise<{ status: number; body: unknown }>;

/** A JSON GET endpoint: the query and the path in (a key ending in `/` matches every path under it). */
export type GetHandler = (query: URLSearchParams, path: string) => Promise<{ status: number; body: unknown }>;

/** Static files served as they are (the explorer page): path → content type and bytes. */
export type StaticAssets = ReadonlyMap<string, { type: string; body: Buffer }>;

export interface ExtraRoutes {
  get?: Record<string, GetHandler>;
  assets?: StaticAssets;
  /** Address to bind (default 0.0.0.0). */
  host?: string;
  /** Bearer token the API routes (POST, GET /v1/*) require; empty: loopback clients only. */
  token?: string;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/**
 * Who may call the API routes (what-if, the explorer's /v1/*): with a token configured, a
 * request carrying it (`Authorization: Bearer <token>`); without one, clients on loopback only.
 * Probes, /metrics, /status and the page's static files stay open (they change nothing and
 * carry no credentials).
 */
export function authorize(headers: IncomingHttpHeaders, remoteAddress: string | undefined, token: string): { ok: true } | { ok: false; status: 401 | 403; message: string } {
  if (token) {
    const h = headers.authorization ?? '';
    const given = h.startsWith('Bearer ') ? h.slice(7).trim() : '';
    const a = Buffer.from(given);
    const b = Buffer.from(token);
    if (given && a.length === b.length && timingSafeEqual(a, b)) return { ok: true };
    return { ok: false, status: 401, message: given ? 'the bearer token does not match FS_ADMIN_TOKEN' : 'send Authorization: Bearer <token> (the processor has FS_ADMIN_TOKEN set)' };
  }
  if (remoteAddress && LOOPBACK.has(remoteAddress)) return { ok: true };
  return { ok: false, status: 403, message: 'only clients on loopback may call this without a token; set FS_ADMIN_TOKEN (or FS_ADMIN_TOKEN_FILE) on the processor and send Authorization: Bearer <token>' };
}

/** Largest JSON body accepted (a what-if over a whole store's series ids fits). */
export const MAX_BODY_BYTES = 8 * 1024 * 1024;

function sendJson(res: ServerResponse, status: number, doc: unknown): void {
  const text = JSON.stringify(doc);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        resolve('too-large');
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

async function handlePost(req: IncomingMessage, res: ServerResponse, handler: JsonHandler): Promise<void> {
  const raw = await readBody(req);
  if (raw === 'too-large') return sendJson(res, 413, { error: { field: 'body', message: `larger than ${MAX_BODY_BYTES} bytes; select series by store/category instead of listing them` } });
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    return sendJson(res, 400, { error: { field: 'body', message: `not JSON: ${(err as Error).message}` } });
  }
  const out = await handler(body);
  sendJson(res, out.status, out.body);
}

/**
 * /metrics (Prometheus), /healthz (liveness), /readyz (readiness), /status (JSON), the JSON
 * POST endpoints given (the what-if API), and the read-only GET endpoints and static files
 * of the explorer page.
 */
export async function startHealthServer(port: number, registry: Registry, health: HealthSource, post: Record<string, JsonHandler> = {}, extra: ExtraRoutes = {}): Promise<Server> {
  const get = extra.get ?? {};
  const prefixes = Object.keys(get).filter((k) => k.endsWith('/'));
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    const path = url.split('?')[0]!;
    const asset = extra.assets?.get(path === '/ui/' ? '/ui' : path);
    if (asset && (req.method === 'GET' || req.method === 'HEAD')) {
      res.writeHead(200, { 'content-type': asset.type, 'content-length': asset.body.length, 'cache-control': 'no-cache' });
      res.end(req.method === 'HEAD' ? undefined : asset.body);
      return;
    }
    const getter = get[path] ?? get[prefixes.find((p) => path.startsWith(p) && path.length > p.length) ?? ''];
    if (getter || post[path]) {
      const auth = authorize(req.headers, req.socket.remoteAddress, extra.token ?? '');
      if (!auth.ok) return sendJson(res, auth.status, { error: { field: 'authorization', message: auth.message } });
    }
    if (getter && req.method === 'GET') {
      getter(new URL(url, 'http://x').searchParams, path)
        .then((out) => sendJson(res, out.status, out.body))
        .catch((err: Error) => {
          if (!res.headersSent) sendJson(res, 500, { error: { field: '', message: err.message } });
        });
      return;
    }
    if (post[path]) {
      if (req.method !== 'POST') {
        res.writeHead(405, { allow: 'POST' });
        res.end();
        return;
      }
      handlePost(req, res, post[path]).catch((err: Error) => {
        if (!res.headersSent) sendJson(res, 500, { error: { field: '', message: err.message } });
      });
      return;
    }
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
  // many concurrent what-if clients keep their connections open
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, extra.host ?? '0.0.0.0', () => resolve());
  });
  return server;
}
