// Temporal's remote codec protocol over HTTP, for the Temporal UI and the `temporal` CLI: POST …/encode and
// …/decode take and give `{ "payloads": [...] }` (proto3 JSON), only the last path segment names the operation.
//
// Every call must authenticate, in one of two ways:
// - `Authorization: Bearer <token>`: the CLI (`--codec-auth 'Bearer …'`) and any HTTP client.
// - the token as the path segment before the operation (`--ui-codec-endpoint http://host:port/<token>`, so the UI
//   posts to /<token>/decode). The UI sends a bearer token only with OIDC login ("pass access token", and then its
//   own access token, not ours) and only to https; without login it sends just Content-Type and X-Namespace. So
//   a capability URL is what the UI can present. It must stay out of logs: nothing here logs a path.
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { PayloadCodec } from '@temporalio/common';
import { CodecError } from '../../activities/payload-codec';
import { HttpError, readJsonBody, sendJson } from '../metrics/http';
import { payloadsFromJson, payloadsToJson, PayloadsJsonError } from './payloads-json';

export interface CodecHttpOptions {
  codec: PayloadCodec;
  /** The token callers present; asked at each request, so that a rotated token takes effect at once. */
  token: () => string;
  /** Origins whose pages may call (CORS): the Temporal UI's. */
  uiOrigins: readonly string[];
  log?: (line: string) => void;
}

/** A history page's payloads can be many; one payload alone may be 2 MB (Temporal's default blob limit). */
export const MAX_CODEC_BODY_BYTES = 16 * 1024 * 1024;
const OPERATIONS = ['encode', 'decode'] as const;
type Operation = (typeof OPERATIONS)[number];
/** What the UI sends (2.54: X-Namespace always; Authorization and Authorization-Extras with OIDC). */
const ALLOWED_HEADERS = 'content-type, x-namespace, authorization, authorization-extras';

export function codecHandler(options: CodecHttpOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const origins = new Set(options.uiOrigins.map((origin) => new URL(origin).origin));
  const log = options.log ?? (() => undefined);
  return async (req, res) => {
    const segments = new URL(req.url ?? '/', 'http://codec').pathname.split('/').filter(Boolean);
    const operation = segments.at(-1) ?? '';
    const namespace = String(req.headers['x-namespace'] ?? '-');
    const cors = corsHeaders(req, origins);
    try {
      if (cors === 'refused') throw new HttpError(403, `origin ${req.headers.origin} is not among temporal.codecServer.uiOrigins`);
      // A preflight carries no credentials, by the Fetch standard: it is answered without them.
      if (req.method === 'OPTIONS') return preflight(res, cors);
      if (operation === 'download') throw new HttpError(400, 'this codec server has no external storage to download from');
      if (!OPERATIONS.includes(operation as Operation)) throw new HttpError(404, 'the path must end in /encode or /decode');
      if (req.method !== 'POST') throw new HttpError(405, `${req.method} is not allowed: POST a { "payloads": [...] } body`);
      authenticate(req, segments.at(-2), options.token());
      const payloads = payloadsFromJson(await readJsonBody(req, MAX_CODEC_BODY_BYTES));
      const done = await options.codec[operation as Operation](payloads);
      sendJson(res, 200, payloadsToJson(done), cors);
      log(`${operation} ${payloads.length} payloads for namespace ${namespace}: 200`);
    } catch (err) {
      const status = statusOf(err);
      if (status === 500) console.error(`codec ${operation}:`, err);
      log(`${operation || '/'} for namespace ${namespace}: ${status} ${(err as Error).message}`);
      sendJson(res, status, { error: err instanceof Error ? err.message : String(err) }, cors === 'refused' ? {} : cors);
    }
  };
}

function statusOf(err: unknown): number {
  if (err instanceof HttpError) return err.status;
  if (err instanceof PayloadsJsonError) return 400;
  // A key id that is not configured, or a payload that does not decrypt: the request is well formed.
  if (err instanceof CodecError) return 422;
  return 500;
}

/** CORS for an allowed Origin (credentials too: the UI may send cookies with "include credentials"). */
function corsHeaders(req: IncomingMessage, origins: ReadonlySet<string>): Record<string, string> | 'refused' {
  const origin = req.headers.origin;
  if (!origin) return {}; // not a browser, or same origin
  if (!origins.has(origin)) return 'refused';
  return { 'access-control-allow-origin': origin, 'access-control-allow-credentials': 'true', vary: 'Origin' };
}

function preflight(res: ServerResponse, cors: Record<string, string>): void {
  res.writeHead(204, {
    ...cors,
    'access-control-allow-methods': 'POST, OPTIONS',
    'access-control-allow-headers': ALLOWED_HEADERS,
    'access-control-max-age': '600',
  });
  res.end();
}

/** The bearer header or the capability path segment; both compared in constant time (as digests, so no length leaks). */
function authenticate(req: IncomingMessage, pathToken: string | undefined, expected: string): void {
  const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim();
  if (!expected) throw new HttpError(500, 'the codec token is empty');
  if ([pathToken, bearer].some((given) => given !== undefined && same(given, expected))) return;
  throw new HttpError(
    401,
    bearer || pathToken
      ? 'the token is wrong'
      : 'a token is required: Authorization: Bearer <token>, or the token as the path segment before /decode',
  );
}

function same(given: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** Listens on host:port (0: any free port) and resolves once it does. */
export function serveCodec(options: CodecHttpOptions & { host: string; port: number }): Promise<Server> {
  const server = createServer(codecHandler(options));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
