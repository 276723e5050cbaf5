// HAProxy runtime API adapter: the commands our runbooks send to a site's HAProxy to move the writer.
//
// The runtime API is HAProxy's `stats socket ... level admin`, on TCP or a Unix socket. Each call opens one
// connection per command (non-interactive mode: HAProxy answers, then closes), so nothing is left half-done
// on a shared session. A server is either ready or in maintenance (`maint`); the backend sends every new
// connection to a ready server, so the writer is the one ready server. Every mutating call:
//   1. reads `show servers state <backend>` (the `before` of its record),
//   2. puts the servers that must not take writes into maint and shuts their sessions down, then readies
//      the one that must (so there is never a moment with two ready servers),
//   3. reads the backend back and throws HaproxyVerificationError unless it is as asked,
//   4. dumps `show servers state` into the server-state file.
// Every call is idempotent: repeating it converges on the same states (a session shut-down is always sent,
// since a retry may follow an attempt that set maint and died before it).
//
// Why step 4: HAProxy reads `server-state-file` at start-up (`load-server-state-from-file global`) but never
// writes it. Its documented way to keep runtime states across a reload is to dump `show servers state` into
// that file first; we dump after each change, so a crash or a restart keeps the routing too.
import { rename, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { isAbsolute, resolve } from 'node:path';
import type { HaproxyConfig } from '../config/schema';

export type HaproxyAdmin = { host: string; port: number } | { socket: string };

export interface HaproxyEndpoint {
  admin: HaproxyAdmin;
  backend: string;
  /** HAProxy's server-state-file (absolute): written after each change. None: the change lives until a restart. */
  stateFile?: string;
  /** Connect and answer timeout of each command in ms (default 5000). */
  timeoutMs?: number;
}

/** What a server is told: take connections, none (maint), or only those it has (drain). */
export type HaproxyAdminState = 'ready' | 'maint' | 'drain';
/** What HAProxy makes of it (srv_op_state): without health checks a server that is not in maint is running. */
export type HaproxyOperationalState = 'stopped' | 'starting' | 'running' | 'stopping';

/** One server of the backend, from `show servers state <backend>`. */
export interface HaproxyServer {
  name: string;
  address: string;
  port: number;
  admin: HaproxyAdminState;
  operational: HaproxyOperationalState;
}

/** What a runbook step records: the backend before and after, and the commands that made the difference. */
export interface HaproxyChange {
  backend: string;
  before: HaproxyServer[];
  after: HaproxyServer[];
  commands: string[];
  /** Where the states were saved for a restart; absent when the endpoint has no state file. */
  stateFile?: string;
}

export class HaproxyVerificationError extends Error {
  override name = 'HaproxyVerificationError';
  constructor(
    message: string,
    readonly problems: string[],
    readonly before: HaproxyServer[],
  ) {
    super(`${message}: ${problems.join('; ')}`);
  }
}

// srv_admin_state bits (HAProxy's SRV_ADMF_*): forced, inherited and DNS maintenance; forced and inherited drain.
// CMAINT (0x04, `disabled` in haproxy.cfg) stays set after `state ready`: it says where maint came from, not that it holds.
const ADMIN_MAINT = 0x01 | 0x02 | 0x20;
const ADMIN_DRAIN = 0x08 | 0x10;
const OPERATIONAL: readonly HaproxyOperationalState[] = ['stopped', 'starting', 'running', 'stopping'];
/** What the CLI would split a command on (';' separates commands, a newline ends one), and spaces. */
const NAME = /^[A-Za-z0-9_.:-]+$/;

function checkName(name: string, what: string): void {
  if (typeof name !== 'string' || !NAME.test(name))
    throw new Error(`${what} ${JSON.stringify(name)} is not an HAProxy name (letters, digits, _ . : -)`);
}

const where = (admin: HaproxyAdmin) => ('socket' in admin ? admin.socket : `${admin.host}:${admin.port}`);

/** One command on a connection of its own; HAProxy's whole answer, trailing blank line removed. */
function send(endpoint: HaproxyEndpoint, command: string): Promise<string> {
  const timeoutMs = endpoint.timeoutMs ?? 5000;
  return new Promise((resolvePromise, reject) => {
    const socket = createConnection('socket' in endpoint.admin ? { path: endpoint.admin.socket } : endpoint.admin);
    const chunks: Buffer[] = [];
    socket.setTimeout(timeoutMs);
    socket.on('connect', () => socket.end(`${command}\n`));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('timeout', () => socket.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    socket.on('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(`HAProxy runtime API at ${where(endpoint.admin)}: "${command}" failed: ${err.code ?? ''} ${err.message}`.trim())),
    );
    socket.on('close', (hadError) => {
      if (!hadError) resolvePromise(Buffer.concat(chunks).toString('utf8').replace(/\n+$/, ''));
    });
  });
}

/** A command that answers nothing when it works; anything else is HAProxy's reason. */
async function run(endpoint: HaproxyEndpoint, command: string): Promise<void> {
  const answer = (await send(endpoint, command)).trim();
  if (answer !== '') throw new Error(`HAProxy at ${where(endpoint.admin)} refused "${command}": ${answer}`);
}

function parseState(text: string, endpoint: HaproxyEndpoint): HaproxyServer[] {
  const [version, header, ...rows] = text.split('\n');
  if (version?.trim() !== '1' || !header?.startsWith('# ')) {
    throw new Error(`HAProxy at ${where(endpoint.admin)}: "show servers state ${endpoint.backend}" answered: ${text.trim() || '(nothing)'}`);
  }
  const columns = header.slice(2).trim().split(/\s+/);
  const index = (column: string) => {
    const at = columns.indexOf(column);
    if (at < 0) throw new Error(`HAProxy's "show servers state" has no ${column} column (columns: ${columns.join(' ')})`);
    return at;
  };
  const [name, address, port, op, admin] = ['srv_name', 'srv_addr', 'srv_port', 'srv_op_state', 'srv_admin_state'].map(index) as number[];
  return rows
    .filter((row) => row.trim() !== '')
    .map((row) => {
      const fields = row.trim().split(/\s+/);
      const adminBits = Number(fields[admin!]);
      return {
        name: fields[name!]!,
        address: fields[address!]!,
        port: Number(fields[port!]),
        admin: adminBits & ADMIN_MAINT ? 'maint' : adminBits & ADMIN_DRAIN ? 'drain' : 'ready',
        operational: OPERATIONAL[Number(fields[op!])] ?? 'stopped',
      };
    });
}

/** The backend's servers: which is ready, which in maint, and whether HAProxy counts it running. */
export async function readServers(endpoint: HaproxyEndpoint): Promise<HaproxyServer[]> {
  checkName(endpoint.backend, 'backend');
  return parseState(await send(endpoint, `show servers state ${endpoint.backend}`), endpoint);
}

/** Dump every backend's states where HAProxy reads them at start-up; a rename, so a crash never leaves half a file. */
async function saveState(endpoint: HaproxyEndpoint): Promise<string | undefined> {
  if (!endpoint.stateFile) return undefined;
  const dump = await send(endpoint, 'show servers state');
  if (!dump.startsWith('1\n')) throw new Error(`HAProxy at ${where(endpoint.admin)}: "show servers state" answered: ${dump.trim()}`);
  const partial = `${endpoint.stateFile}.partial`;
  try {
    await writeFile(partial, `${dump}\n`);
    await rename(partial, endpoint.stateFile);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new Error(
      `the routing changed, but the state file ${endpoint.stateFile} could not be written (${reason}): a restart of HAProxy would undo it`,
    );
  }
  return endpoint.stateFile;
}

/**
 * Bring the named servers to the wanted states: maint first (with their sessions shut down), then drain and
 * ready, then read back, verify and save. Servers of the backend not named are left as they are.
 */
async function apply(endpoint: HaproxyEndpoint, what: string, wanted: Map<string, HaproxyAdminState>): Promise<HaproxyChange> {
  const before = await readServers(endpoint);
  const unknown = [...wanted.keys()].filter((name) => !before.some((server) => server.name === name));
  if (unknown.length) {
    const known = before.map((server) => server.name).join(', ') || 'none';
    throw new Error(
      `${what}: no server ${unknown.join(', ')} in backend ${endpoint.backend} of HAProxy at ${where(endpoint.admin)} (its servers: ${known})`,
    );
  }
  const commands: string[] = [];
  const order: HaproxyAdminState[] = ['maint', 'drain', 'ready'];
  for (const state of order) {
    for (const server of before.filter((server) => wanted.get(server.name) === state)) {
      const target = `${endpoint.backend}/${server.name}`;
      if (server.admin !== state) commands.push(`set server ${target} state ${state}`);
      if (state === 'maint') commands.push(`shutdown sessions server ${target}`);
    }
  }
  for (const command of commands) await run(endpoint, command);
  const after = await readServers(endpoint);
  const problems = after.filter((server) => wanted.has(server.name) && server.admin !== wanted.get(server.name));
  if (problems.length) {
    const text = problems.map((server) => `${endpoint.backend}/${server.name} is ${server.admin}, expected ${wanted.get(server.name)}`);
    throw new HaproxyVerificationError(`${what}: HAProxy did not apply the change`, text, before);
  }
  const stateFile = await saveState(endpoint);
  return { backend: endpoint.backend, before, after, commands, ...(stateFile && { stateFile }) };
}

/** Fence the writer: `primary`'s server into maint, and every session it has shut down, so no client keeps writing. */
export async function fenceWriter(endpoint: HaproxyEndpoint, spec: { primary: string }): Promise<HaproxyChange> {
  checkName(endpoint.backend, 'backend');
  checkName(spec.primary, 'primary');
  return apply(endpoint, `fenceWriter ${endpoint.backend}/${spec.primary}`, new Map([[spec.primary, 'maint']]));
}

/**
 * Route writes to `newPrimary`: every other server of the backend into maint (sessions shut down), then
 * `newPrimary` ready. `oldPrimary` only guards against a mix-up: it goes into maint with the rest, and a backend
 * without it (a site this HAProxy never served) is no reason to stop a failover past its point of no return.
 *
 * For an exact compensation, read the servers *before* the first attempt (an earlier activity): a retried
 * attempt sees the already-switched backend as its `before`.
 */
export async function routeWriter(endpoint: HaproxyEndpoint, spec: { newPrimary: string; oldPrimary?: string }): Promise<HaproxyChange> {
  checkName(endpoint.backend, 'backend');
  checkName(spec.newPrimary, 'newPrimary');
  if (spec.oldPrimary !== undefined) checkName(spec.oldPrimary, 'oldPrimary');
  if (spec.oldPrimary === spec.newPrimary) throw new Error(`oldPrimary and newPrimary are the same server ${spec.newPrimary}`);
  const servers = await readServers(endpoint);
  const wanted = new Map<string, HaproxyAdminState>(servers.map((server) => [server.name, 'maint']));
  wanted.set(spec.newPrimary, 'ready');
  return apply(endpoint, `routeWriter ${endpoint.backend} -> ${spec.newPrimary}`, wanted);
}

/** Put each server of a reading back in its admin state (the compensation for the calls above). */
export async function restoreServers(endpoint: HaproxyEndpoint, servers: Pick<HaproxyServer, 'name' | 'admin'>[]): Promise<HaproxyChange> {
  checkName(endpoint.backend, 'backend');
  const wanted = new Map<string, HaproxyAdminState>();
  for (const server of servers) {
    checkName(server.name, 'server');
    if (!['ready', 'maint', 'drain'].includes(server.admin)) throw new Error(`server ${server.name}: unknown state ${String(server.admin)}`);
    if (wanted.has(server.name)) throw new Error(`restoreServers: server ${server.name} is named twice`);
    wanted.set(server.name, server.admin);
  }
  return apply(endpoint, `restoreServers ${endpoint.backend}`, wanted);
}

/** The adapter's endpoint from a site's `haproxy` section; the state file is taken from the config's folder. */
export function haproxyEndpointOf(haproxy: HaproxyConfig, baseDir: string): HaproxyEndpoint {
  const admin = 'socket' in haproxy.admin ? { socket: resolve(baseDir, haproxy.admin.socket) } : haproxy.admin;
  const stateFile = haproxy.stateFile && (isAbsolute(haproxy.stateFile) ? haproxy.stateFile : resolve(baseDir, haproxy.stateFile));
  return { admin, backend: haproxy.backend, ...(stateFile && { stateFile }) };
}

/** The server that stands for a site's database in the backend: named in `servers`, else the site's id. */
export function haproxyServerOf(haproxy: HaproxyConfig, siteId: string): string {
  return haproxy.servers[siteId] ?? siteId;
}
