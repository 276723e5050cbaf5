// A tiny HTTP server for the control worker: routes keyed by `METHOD path` ('GET /metrics', 'POST /alerts'),
// JSON errors, and a JSON body reader. node:http alone: the routes are few and a framework would be more code.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Registry } from 'prom-client';

export type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

/** An error that answers with its own status; any other error thrown by a handler is a 500. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const MAX_BODY_BYTES = 1024 * 1024;

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

/** The request's JSON body: 413 past `limit` bytes, 400 with the parse error when it is not JSON. */
export async function readJsonBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
  if (Number(req.headers['content-length'] ?? 0) > limit) throw new HttpError(413, `the body is larger than ${limit} bytes`);
  const text = await new Promise<string>((resolvePromise, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        // Stop keeping it, but let the rest drain so that the 413 reaches the client.
        req.off('data', onData);
        req.resume();
        reject(new HttpError(413, `the body is larger than ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => resolvePromise(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new HttpError(400, `the body is not JSON: ${(err as Error).message}`);
  }
}

/** The request's path without its query string. */
const pathOf = (req: IncomingMessage): string => (req.url ?? '/').split('?')[0]!;

/** Answers a request from the routes, or 404 / 405; a thrown error becomes JSON with its message, never a stack. */
export function routeRequest(routes: Record<string, Handler>): Handler {
  return async (req, res) => {
    const path = pathOf(req);
    const handler = routes[`${req.method} ${path}`];
    if (!handler) return notRouted(routes, req.method ?? '', path, res);
    try {
      await handler(req, res);
    } catch (err) {
      const status = err instanceof HttpError ? err.status : 500;
      if (status === 500) console.error(`${req.method} ${path}:`, err);
      // A handler that already began its answer cannot turn it into an error: end the connection instead.
      if (res.headersSent) return void res.destroy();
      sendJson(res, status, { error: err instanceof Error ? err.message : String(err) });
    }
  };
}

/** 405 with the methods the path has, or 404 when it has none. */
function notRouted(routes: Record<string, Handler>, method: string, path: string, res: ServerResponse): void {
  const allowed = Object.keys(routes)
    .map((key) => key.split(' '))
    .filter(([, routePath]) => routePath === path)
    .map(([routeMethod]) => routeMethod!);
  if (allowed.length) sendJson(res, 405, { error: `${method} is not allowed on ${path}` }, { allow: allowed.join(', ') });
  else sendJson(res, 404, { error: `no route for ${method} ${path}` });
}

/** Listens on host:port (port 0: any free port) and resolves once it does; a failure to listen rejects. */
export function startHttp(options: { host: string; port: number; routes: Record<string, Handler> }): Promise<Server> {
  const server = createServer(routeRequest(options.routes));
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolvePromise(server);
    });
  });
}

/** `GET /metrics`: the registries merged into one exposition, in their own content type. */
export function metricsRoute(registries: Registry[]): Handler {
  // Merged once, so that two registries defining the same metric fail at start-up rather than at each scrape.
  const merged = Registry.merge(registries.length ? registries : [new Registry()]);
  return async (_req, res) => {
    const text = await merged.metrics();
    res.writeHead(200, { 'content-type': merged.contentType });
    res.end(text);
  };
}
