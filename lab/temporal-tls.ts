// TLS to the lab's Temporal: with `temporal.tls` in the config, an HAProxy that requires a client certificate
// listens on temporal.address (gRPC over HTTP/2, TLS terminated there) and passes requests to the dev server, which
// moves to an internal port beside it in the control site. The dev server's own Web UI dials it directly.
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { LoadedConfig } from '../config/load';
import { checkHaproxyConfig, requireHaproxy } from './haproxy';
import { placeOf } from './network';
import type { LabDirs } from './paths';
import { alive, portOpen, readPid, startDaemon, stopDaemon, tail, waitFor } from './procs';
import { ensureTlsCerts, tlsFilesIn, type TlsFiles } from './tls-certs';
import { clusterServing } from './services';

export const TEMPORAL_TLS = 'temporal-tls';

/** The dev server's port behind the proxy: temporal.address's port plus this. */
export const DEV_SERVER_PORT_OFFSET = 10;

export function temporalTlsOn(loaded: LoadedConfig): boolean {
  return loaded.config.temporal.tls !== undefined;
}

function addressOf(loaded: LoadedConfig): { host: string; port: number } {
  const address = loaded.config.temporal.address;
  const colon = address.lastIndexOf(':');
  return { host: address.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(address.slice(colon + 1)) };
}

/** Where the dev server listens: temporal.address itself, or the internal port when the proxy takes that. */
export function devServerPort(loaded: LoadedConfig): number {
  return addressOf(loaded).port + (temporalTlsOn(loaded) ? DEV_SERVER_PORT_OFFSET : 0);
}

/** temporal.address with the dev server's port, for the lab's own health check. */
export function devServerAddress(loaded: LoadedConfig): string {
  return loaded.config.temporal.address.replace(/:\d+$/, `:${devServerPort(loaded)}`);
}

export interface TlsProxySpec {
  listen: { host: string; port: number };
  server: { host: string; port: number };
  /** The server's certificate and key, one PEM file. */
  serverPem: string;
  /** The CA a client's certificate must be signed by. */
  ca: string;
}

/**
 * The text of the proxy's haproxy.cfg. HTTP mode, h2 on both sides: the proxy sees each gRPC call, so a client
 * without a certificate is refused in the handshake. Long timeouts: a worker's long poll holds a request open
 * for about a minute, and an idle connection is the client's to close.
 */
export function tlsProxyConfigText(spec: TlsProxySpec): string {
  return [
    'global',
    '  ssl-default-bind-options ssl-min-ver TLSv1.2',
    '',
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 1h',
    '  timeout server 1h',
    // A worker that dies mid long-poll must take its poll with it: without this the dev server keeps the poll,
    // hands it the next task, and the task waits out its start-to-close timeout instead of schedule-to-start.
    '  option abortonclose',
    '',
    'frontend temporal',
    `  bind ${spec.listen.host}:${spec.listen.port} ssl crt ${spec.serverPem} ca-file ${spec.ca} verify required alpn h2`,
    '  default_backend dev-server',
    '',
    'backend dev-server',
    `  server dev ${spec.server.host}:${spec.server.port} proto h2`,
    // While the dev server is down (a restart, a kill -9 in the tests): a gRPC UNAVAILABLE that clients retry,
    // not HAProxy's HTML page, which the worker's core reads as a malformed message (INTERNAL).
    '  http-error status 503 hdr grpc-status 14 hdr grpc-message "the Temporal dev server is down"',
    '',
  ].join('\n');
}

/** An HAProxy with `spec`, in the foreground (`-db`) so that its pid is the one tracked, and ready when this returns. */
export async function startTlsProxy(opts: {
  name: string;
  spec: TlsProxySpec;
  dirs: Pick<LabDirs, 'state' | 'pids' | 'logs'>;
  netns?: string;
}): Promise<'started' | 'running'> {
  const { name, spec, dirs } = opts;
  if (alive(readPid(dirs.pids, name))) return 'running';
  const bin = requireHaproxy();
  const file = join(dirs.state, `${name}.cfg`);
  writeFileSync(file, tlsProxyConfigText(spec));
  checkHaproxyConfig(file);
  startDaemon({ name, command: bin, args: ['-db', '-f', file], pidsDir: dirs.pids, logsDir: dirs.logs, port: spec.listen.port, netns: opts.netns });
  const rec = readPid(dirs.pids, name);
  const log = join(dirs.logs, `${name}.log`);
  await waitFor(
    `${name} on port ${spec.listen.port}`,
    async () => {
      if (!alive(rec)) throw new Error(`${name} exited during start-up (its config: ${file}):\n${tail(log)}`);
      return portOpen(spec.listen.port, spec.listen.host);
    },
    30_000,
    log,
  );
  return 'started';
}

/** The lab's TLS files: kept across `renew` (lab/index.ts), made anew by `destroy` and `up`. */
export function labTlsDir(dirs: Pick<LabDirs, 'state'>): string {
  return join(dirs.state, 'tls');
}

/**
 * The lab's CA, server and client files, made when missing, for the dev server's address, 127.0.0.1 and
 * localhost. The config's temporal.tls must name them by `file:`, which is how every process finds them.
 */
export function ensureLabTlsFiles(loaded: LoadedConfig, dirs: LabDirs): TlsFiles {
  const files = tlsFilesIn(labTlsDir(dirs));
  const problems = labTlsRefProblems(loaded, files);
  if (problems.length) throw new Error(`TLS to the lab's Temporal:\n  ${problems.join('\n  ')}`);
  return ensureTlsCerts(labTlsDir(dirs), [addressOf(loaded).host, '127.0.0.1', 'localhost']).files;
}

/** The config's temporal.tls against the files the lab makes: each field that names another, as `file: field: message`. */
export function labTlsRefProblems(loaded: LoadedConfig, files: TlsFiles): string[] {
  const tls = loaded.config.temporal.tls;
  if (!tls) return [];
  const wanted = { ca: files.ca, cert: files.clientCert, key: files.clientKey } as const;
  return (Object.keys(wanted) as Array<keyof typeof wanted>).flatMap((field) => {
    const ref = tls[field];
    if (ref?.startsWith('file:') && resolve(loaded.baseDir, ref.slice(5)) === wanted[field]) return [];
    return [`${loaded.file}: temporal.tls.${field}: must be file:${wanted[field]} (or relative to the config), the file the lab makes`];
  });
}

/** Start the proxy in the control site, where the dev server runs, with the lab's certificates. */
export async function startTemporalTls(loaded: LoadedConfig, dirs: LabDirs): Promise<'started' | 'running'> {
  if (alive(readPid(dirs.pids, TEMPORAL_TLS))) return 'running';
  const files = ensureLabTlsFiles(loaded, dirs);
  const { host, port } = addressOf(loaded);
  if (await portOpen(port, host))
    throw new Error(`port ${port} for ${TEMPORAL_TLS} is busy: something else listens there (change temporal.address in ${loaded.file})`);
  const { netns } = placeOf(loaded);
  // In the namespace the dev server listens on every address; on loopback only on the address's host.
  const server = { host: netns ? '127.0.0.1' : host, port: devServerPort(loaded) };
  const spec = { listen: { host, port }, server, serverPem: files.serverPem, ca: files.ca };
  return startTlsProxy({ name: TEMPORAL_TLS, spec, dirs, netns });
}

export function stopTemporalTls(dirs: LabDirs): Promise<'stopped' | 'not running'> {
  return stopDaemon(dirs.pids, TEMPORAL_TLS);
}

/** The `temporal` CLI's flags for temporal.address: the lab's TLS files, or none without TLS. */
export function temporalCliArgs(loaded: LoadedConfig, dirs: Pick<LabDirs, 'state'>): string[] {
  const address = ['--address', loaded.config.temporal.address];
  if (!temporalTlsOn(loaded)) return address;
  const files = tlsFilesIn(labTlsDir(dirs));
  return [...address, '--tls-ca-path', files.ca, '--tls-cert-path', files.clientCert, '--tls-key-path', files.clientKey];
}

/** Whether Temporal answers through the proxy, as a client with the lab's certificate asks it. */
export function temporalTlsHealthy(loaded: LoadedConfig, dirs: LabDirs): boolean {
  return clusterServing(temporalCliArgs(loaded, dirs));
}
