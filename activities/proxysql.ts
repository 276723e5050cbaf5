// ProxySQL admin adapter: the admin SQL our runbooks send to ProxySQL (port 6032) to move the writer.
//
// One short-lived admin connection per call. Every mutating call follows the same protocol:
//   1. snapshot runtime + memory,
//   2. edit `mysql_servers` (MEMORY layer only),
//   3. LOAD MYSQL SERVERS TO RUNTIME, SAVE MYSQL SERVERS TO DISK,
//   4. read MEMORY, RUNTIME and DISK back and throw ProxySqlVerificationError unless they agree.
// If step 2 fails, MEMORY is put back to the snapshot (nothing reached RUNTIME yet). Every call is
// idempotent: repeating it converges on the same configuration.
//
// ProxySQL admin facts this relies on (see docs/proxysql-emulator.md):
//   - the admin interface is SQLite: string literals are quoted with '' (no backslash escapes);
//   - it returns every column as a string, so rows are normalised to numbers here;
//   - runtime_mysql_servers omits OFFLINE_HARD servers that have no connections (they are purged
//     when the table is dumped) and may keep a removed server as OFFLINE_HARD while connections
//     drain; ProxySQL may also SHUN a server at runtime on its own. Verification accepts exactly that.
import mysql from 'mysql2/promise';

export interface ProxySqlEndpoint {
  host: string;
  port: number;
  user: string;
  password: string;
  /** Connect timeout in ms (default 5000). */
  connectTimeoutMs?: number;
}

export type ProxySqlLayer = 'memory' | 'runtime' | 'disk';
export type ProxySqlServerStatus = 'ONLINE' | 'SHUNNED' | 'OFFLINE_SOFT' | 'OFFLINE_HARD';
export const PROXYSQL_SERVER_STATUSES: readonly ProxySqlServerStatus[] = ['ONLINE', 'SHUNNED', 'OFFLINE_SOFT', 'OFFLINE_HARD'];

/** One row of mysql_servers (ProxySQL 2.5 columns). */
export interface ProxySqlServerRow {
  hostgroup_id: number;
  hostname: string;
  port: number;
  gtid_port: number;
  status: string;
  weight: number;
  compression: number;
  max_connections: number;
  max_replication_lag: number;
  use_ssl: number;
  max_latency_ms: number;
  comment: string;
}

/** Input for restoreServers: hostgroup_id, hostname and port are required, the rest take ProxySQL's defaults. */
export type ProxySqlServerInput = Pick<ProxySqlServerRow, 'hostgroup_id' | 'hostname' | 'port'> & Partial<ProxySqlServerRow>;

export interface HostPort {
  host: string;
  port: number;
}

export interface ChangeResult {
  /** runtime_mysql_servers before the change. */
  before: ProxySqlServerRow[];
  /** runtime_mysql_servers after the change, verified. */
  after: ProxySqlServerRow[];
  /**
   * mysql_servers (MEMORY, i.e. the configuration) before the change. restoreServers(configBefore)
   * undoes the change exactly, including rows that runtime does not show (OFFLINE_HARD servers);
   * restoreServers(before) restores the same routing.
   */
  configBefore: ProxySqlServerRow[];
}

export interface RouteWriterSpec {
  writerHostgroup: number;
  /** If given, the old primary is also set OFFLINE_HARD in this reader hostgroup (the new primary's reader row is left alone). */
  readerHostgroup?: number;
  newPrimary: HostPort;
  /** Informational and for the reader hostgroup; every server other than newPrimary in the writer hostgroup is set OFFLINE_HARD anyway. */
  oldPrimary?: HostPort;
}

export class ProxySqlVerificationError extends Error {
  constructor(
    message: string,
    readonly problems: string[],
    readonly before: ProxySqlServerRow[],
    readonly configBefore: ProxySqlServerRow[],
  ) {
    super(`${message}: ${problems.join('; ')}`);
    this.name = 'ProxySqlVerificationError';
  }
}

const COLUMNS = [
  'hostgroup_id',
  'hostname',
  'port',
  'gtid_port',
  'status',
  'weight',
  'compression',
  'max_connections',
  'max_replication_lag',
  'use_ssl',
  'max_latency_ms',
  'comment',
] as const;
const TEXT_COLUMNS: readonly string[] = ['hostname', 'status', 'comment'];
const INT_COLUMNS = COLUMNS.filter((c) => !TEXT_COLUMNS.includes(c));
const DEFAULTS: Omit<ProxySqlServerRow, 'hostgroup_id' | 'hostname' | 'port'> = {
  gtid_port: 0,
  status: 'ONLINE',
  weight: 1,
  compression: 0,
  max_connections: 1000,
  max_replication_lag: 0,
  use_ssl: 0,
  max_latency_ms: 0,
  comment: '',
};
const TABLES: Record<ProxySqlLayer, string> = {
  memory: 'mysql_servers',
  runtime: 'runtime_mysql_servers',
  disk: 'disk.mysql_servers',
};

type Conn = mysql.Connection;

// ---------------------------------------------------------------------------------------------
// SQL literal helpers (SQLite dialect)
// ---------------------------------------------------------------------------------------------

function sqlString(s: string): string {
  if (s.includes('\0')) throw new Error('NUL byte in a ProxySQL admin string literal');
  return `'${s.replace(/'/g, "''")}'`;
}

function sqlInt(v: number, what: string): string {
  if (!Number.isSafeInteger(v)) throw new Error(`${what} must be an integer, got ${v}`);
  return String(v);
}

function checkHostPort(hp: HostPort, what: string): void {
  if (!hp || typeof hp.host !== 'string' || hp.host.trim() === '') throw new Error(`${what}.host must be a non-empty string`);
  if (!Number.isInteger(hp.port) || hp.port < 0 || hp.port > 65535) throw new Error(`${what}.port must be an integer 0..65535`);
}

function checkHostgroup(hg: number, what: string): void {
  if (!Number.isInteger(hg) || hg < 0) throw new Error(`${what} must be a non-negative integer`);
}

const pkWhere = (hg: number, host: string, port: number) =>
  `hostgroup_id=${sqlInt(hg, 'hostgroup_id')} AND hostname=${sqlString(host)} AND port=${sqlInt(port, 'port')}`;

const keyOf = (r: Pick<ProxySqlServerRow, 'hostgroup_id' | 'hostname' | 'port'>) => `${r.hostgroup_id}/${r.hostname}/${r.port}`;
const label = (r: Pick<ProxySqlServerRow, 'hostgroup_id' | 'hostname' | 'port'>) => `hg ${r.hostgroup_id} ${r.hostname}:${r.port}`;

function sortRows(rows: ProxySqlServerRow[]): ProxySqlServerRow[] {
  return rows.sort((a, b) => a.hostgroup_id - b.hostgroup_id || (a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : 0) || a.port - b.port);
}

function normalise(raw: Record<string, unknown>): ProxySqlServerRow {
  const out: Record<string, unknown> = {};
  for (const c of COLUMNS) {
    const v = raw[c];
    if (!TEXT_COLUMNS.includes(c)) {
      const num = typeof v === 'number' ? v : Number(v);
      if (!Number.isFinite(num)) throw new Error(`ProxySQL returned a non-numeric ${c}: ${String(v)}`);
      out[c] = num;
    } else {
      out[c] = v === null || v === undefined ? '' : String(v);
    }
  }
  return out as unknown as ProxySqlServerRow;
}

function fillDefaults(r: ProxySqlServerInput): ProxySqlServerRow {
  const row = { ...DEFAULTS, ...r } as ProxySqlServerRow;
  checkHostgroup(row.hostgroup_id, 'hostgroup_id');
  checkHostPort({ host: row.hostname, port: row.port }, label(row));
  for (const c of INT_COLUMNS) sqlInt(row[c] as number, `${label(row)} ${c}`);
  if (!PROXYSQL_SERVER_STATUSES.includes(String(row.status).toUpperCase() as ProxySqlServerStatus)) {
    throw new Error(`${label(row)}: invalid status ${row.status}`);
  }
  return row;
}

function insertSql(rows: ProxySqlServerRow[], verb = 'INSERT'): string {
  const values = rows.map(
    (r) => `(${COLUMNS.map((c) => (TEXT_COLUMNS.includes(c) ? sqlString(String(r[c])) : sqlInt(r[c] as number, c))).join(',')})`,
  );
  return `${verb} INTO mysql_servers (${COLUMNS.join(',')}) VALUES ${values.join(',')}`;
}

// ---------------------------------------------------------------------------------------------
// Connection and layer access
// ---------------------------------------------------------------------------------------------

// One change at a time per ProxySQL: LOAD MYSQL SERVERS TO RUNTIME loads the whole of MEMORY, so a change made
// while another group's is half done would load (and verify against) the other's edit. A site's ProxySQL is
// changed only by that site's worker, so a lock in this process is enough.
const editing = new Map<string, Promise<unknown>>();

async function oneChangeAtATime<T>(ep: ProxySqlEndpoint, fn: () => Promise<T>): Promise<T> {
  const key = `${ep.host}:${ep.port}`;
  const earlier = editing.get(key) ?? Promise.resolve();
  const mine = earlier.catch(() => undefined).then(fn);
  editing.set(key, mine);
  try {
    return await mine;
  } finally {
    if (editing.get(key) === mine) editing.delete(key);
  }
}

/** A change: its own admin connection, after any other change of the same ProxySQL from this process. */
function withAdminChange<T>(ep: ProxySqlEndpoint, fn: (c: Conn) => Promise<T>): Promise<T> {
  return oneChangeAtATime(ep, () => withAdmin(ep, fn));
}

async function withAdmin<T>(ep: ProxySqlEndpoint, fn: (c: Conn) => Promise<T>): Promise<T> {
  let conn: Conn;
  try {
    conn = await mysql.createConnection({
      host: ep.host,
      port: ep.port,
      user: ep.user,
      password: ep.password,
      connectTimeout: ep.connectTimeoutMs ?? 5000,
      multipleStatements: false,
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new Error(`cannot connect to ProxySQL admin at ${ep.host}:${ep.port} as ${ep.user}: ${e.code ?? ''} ${e.message}`.trim());
  }
  try {
    return await fn(conn);
  } finally {
    await conn.end().catch(() => conn.destroy());
  }
}

async function exec(c: Conn, sql: string): Promise<void> {
  try {
    await c.query(sql);
  } catch (err) {
    throw new Error(`ProxySQL admin rejected "${sql}": ${(err as Error).message}`);
  }
}

async function select(c: Conn, layer: ProxySqlLayer): Promise<ProxySqlServerRow[]> {
  const sql = `SELECT ${COLUMNS.join(', ')} FROM ${TABLES[layer]} ORDER BY hostgroup_id, hostname, port`;
  let rows: unknown;
  try {
    [rows] = await c.query(sql);
  } catch (err) {
    throw new Error(`ProxySQL admin rejected "${sql}": ${(err as Error).message}`);
  }
  return sortRows((rows as Record<string, unknown>[]).map(normalise));
}

/** Rows of mysql_servers in one configuration layer, typed and sorted by (hostgroup_id, hostname, port). */
export async function readServers(endpoint: ProxySqlEndpoint, layer: ProxySqlLayer): Promise<ProxySqlServerRow[]> {
  if (!(layer in TABLES)) throw new Error(`unknown layer ${String(layer)}`);
  return withAdmin(endpoint, (c) => select(c, layer));
}

// ---------------------------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------------------------

const sameConfig = (a: ProxySqlServerRow, b: ProxySqlServerRow) => COLUMNS.every((c) => a[c] === b[c]);

/**
 * Does runtime reflect this configuration? Field by field, with status compared case-insensitively and
 * three runtime-only effects allowed: an OFFLINE_HARD row may be absent (purged), a row missing from
 * the configuration may linger as OFFLINE_HARD, and a configured ONLINE server may be SHUNNED.
 */
function runtimeProblems(config: ProxySqlServerRow[], runtime: ProxySqlServerRow[]): string[] {
  const problems: string[] = [];
  const rt = new Map(runtime.map((r) => [keyOf(r), r]));
  for (const m of config) {
    const want = m.status.toUpperCase();
    const got = rt.get(keyOf(m));
    rt.delete(keyOf(m));
    if (!got) {
      if (want !== 'OFFLINE_HARD') problems.push(`${label(m)} is ${want} in memory but missing from runtime`);
      continue;
    }
    const statusOk = got.status === want || (want === 'ONLINE' && got.status === 'SHUNNED');
    if (!statusOk || !sameConfig({ ...got, status: want }, { ...m, status: want })) {
      problems.push(`${label(m)} differs: memory ${JSON.stringify(m)} vs runtime ${JSON.stringify(got)}`);
    }
  }
  for (const extra of rt.values()) {
    if (extra.status !== 'OFFLINE_HARD') problems.push(`${label(extra)} is ${extra.status} in runtime but not configured in memory`);
  }
  return problems;
}

function sameRowSet(a: ProxySqlServerRow[], b: ProxySqlServerRow[]): boolean {
  if (a.length !== b.length) return false;
  const mb = new Map(b.map((r) => [keyOf(r), r]));
  return a.every((r) => {
    const o = mb.get(keyOf(r));
    return o !== undefined && sameConfig(r, o);
  });
}

interface Applied {
  memory: ProxySqlServerRow[];
  runtime: ProxySqlServerRow[];
}

/** LOAD to runtime, SAVE to disk, read all three layers back and check they agree (plus `extra` checks). */
async function applyAndVerify(
  c: Conn,
  what: string,
  snapshot: { before: ProxySqlServerRow[]; configBefore: ProxySqlServerRow[] },
  extra: (a: Applied) => string[],
): Promise<Applied> {
  await exec(c, 'LOAD MYSQL SERVERS TO RUNTIME');
  await exec(c, 'SAVE MYSQL SERVERS TO DISK');
  const memory = await select(c, 'memory');
  const runtime = await select(c, 'runtime');
  const disk = await select(c, 'disk');
  const problems = [...runtimeProblems(memory, runtime)];
  if (!sameRowSet(memory, disk)) problems.push('disk.mysql_servers differs from mysql_servers after SAVE MYSQL SERVERS TO DISK');
  problems.push(...extra({ memory, runtime }));
  if (problems.length)
    throw new ProxySqlVerificationError(`${what}: ProxySQL did not apply the change`, problems, snapshot.before, snapshot.configBefore);
  return { memory, runtime };
}

/** Put MEMORY back after a failed edit (runtime was not touched yet). */
async function rollbackMemory(c: Conn, configBefore: ProxySqlServerRow[], cause: unknown): Promise<never> {
  try {
    await exec(c, 'DELETE FROM mysql_servers');
    if (configBefore.length) await exec(c, insertSql(configBefore));
  } catch (rbErr) {
    throw new Error(`${(cause as Error).message}; additionally, restoring mysql_servers in MEMORY failed: ${(rbErr as Error).message}`);
  }
  throw cause;
}

async function editMemory(c: Conn, configBefore: ProxySqlServerRow[], edit: () => Promise<void>): Promise<void> {
  try {
    await edit();
  } catch (err) {
    await rollbackMemory(c, configBefore, err);
  }
}

// ---------------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------------

/**
 * Route writes to `newPrimary`: it becomes ONLINE in the writer hostgroup (inserted if absent, copying
 * gtid_port/compression/max_connections/use_ssl/max_latency_ms from another row of the same server),
 * and every other server in the writer hostgroup (the old primary included) becomes OFFLINE_HARD. With a
 * reader hostgroup, the old primary's reader row goes OFFLINE_HARD and the new primary's (if any) ONLINE.
 *
 * For an exact compensation, take the snapshot *before* the first attempt (readServers(ep, 'memory')
 * in an earlier activity): a retried attempt sees the already-switched state as its `before`.
 */
export async function routeWriter(endpoint: ProxySqlEndpoint, spec: RouteWriterSpec): Promise<ChangeResult> {
  checkHostgroup(spec.writerHostgroup, 'writerHostgroup');
  if (spec.readerHostgroup !== undefined) {
    checkHostgroup(spec.readerHostgroup, 'readerHostgroup');
    if (spec.readerHostgroup === spec.writerHostgroup) throw new Error('readerHostgroup must differ from writerHostgroup');
  }
  checkHostPort(spec.newPrimary, 'newPrimary');
  if (spec.oldPrimary) {
    checkHostPort(spec.oldPrimary, 'oldPrimary');
    if (spec.oldPrimary.host === spec.newPrimary.host && spec.oldPrimary.port === spec.newPrimary.port) {
      throw new Error('oldPrimary and newPrimary are the same server');
    }
  }
  const W = spec.writerHostgroup;
  const np = spec.newPrimary;
  const isNew = (r: ProxySqlServerRow) => r.hostname === np.host && r.port === np.port;

  return withAdminChange(endpoint, async (c) => {
    const before = await select(c, 'runtime');
    const configBefore = await select(c, 'memory');
    await editMemory(c, configBefore, async () => {
      if (!configBefore.some((r) => r.hostgroup_id === W && isNew(r))) {
        const template = configBefore.find((r) => isNew(r) && r.hostgroup_id === spec.readerHostgroup) ?? configBefore.find((r) => isNew(r));
        const row = fillDefaults({
          hostgroup_id: W,
          hostname: np.host,
          port: np.port,
          status: 'ONLINE',
          ...(template && {
            gtid_port: template.gtid_port,
            compression: template.compression,
            max_connections: template.max_connections,
            use_ssl: template.use_ssl,
            max_latency_ms: template.max_latency_ms,
          }),
        });
        await exec(c, insertSql([row], 'INSERT OR IGNORE'));
      }
      await exec(c, `UPDATE mysql_servers SET status='ONLINE' WHERE ${pkWhere(W, np.host, np.port)}`);
      for (const r of configBefore) {
        if (r.hostgroup_id === W && !isNew(r) && r.status.toUpperCase() !== 'OFFLINE_HARD') {
          await exec(c, `UPDATE mysql_servers SET status='OFFLINE_HARD' WHERE ${pkWhere(W, r.hostname, r.port)}`);
        }
      }
      if (spec.oldPrimary && spec.readerHostgroup !== undefined) {
        await exec(
          c,
          `UPDATE mysql_servers SET status='OFFLINE_HARD' WHERE ${pkWhere(spec.readerHostgroup, spec.oldPrimary.host, spec.oldPrimary.port)}`,
        );
      }
      // A primary serves reads too, as it did before: a failback must not leave its reader row OFFLINE_HARD.
      if (spec.readerHostgroup !== undefined) {
        await exec(c, `UPDATE mysql_servers SET status='ONLINE' WHERE ${pkWhere(spec.readerHostgroup, np.host, np.port)}`);
      }
    });
    const { runtime } = await applyAndVerify(c, `routeWriter hg ${W} -> ${np.host}:${np.port}`, { before, configBefore }, ({ runtime }) => {
      const problems: string[] = [];
      const writers = runtime.filter((r) => r.hostgroup_id === W);
      const target = writers.find(isNew);
      if (!target) problems.push(`${np.host}:${np.port} is not in writer hostgroup ${W} at runtime`);
      else if (target.status !== 'ONLINE') problems.push(`${np.host}:${np.port} is ${target.status} in writer hostgroup ${W} at runtime`);
      for (const r of writers) {
        if (!isNew(r) && r.status !== 'OFFLINE_HARD') problems.push(`${label(r)} is still ${r.status} at runtime`);
      }
      return problems;
    });
    return { before, after: runtime, configBefore };
  });
}

/** Set one server's status in one hostgroup (fencing: the writer -> OFFLINE_HARD). The row must exist. */
export async function setServerStatus(
  endpoint: ProxySqlEndpoint,
  target: { hostgroup: number; host: string; port: number; status: ProxySqlServerStatus },
): Promise<ChangeResult> {
  checkHostgroup(target.hostgroup, 'hostgroup');
  checkHostPort(target, 'server');
  if (!PROXYSQL_SERVER_STATUSES.includes(target.status)) throw new Error(`invalid status ${String(target.status)}`);
  const key = { hostgroup_id: target.hostgroup, hostname: target.host, port: target.port };

  return withAdminChange(endpoint, async (c) => {
    const before = await select(c, 'runtime');
    const configBefore = await select(c, 'memory');
    if (!configBefore.some((r) => keyOf(r) === keyOf(key))) {
      throw new Error(`${label(key)} is not configured in mysql_servers; nothing to set to ${target.status}`);
    }
    await editMemory(c, configBefore, () =>
      exec(c, `UPDATE mysql_servers SET status=${sqlString(target.status)} WHERE ${pkWhere(target.hostgroup, target.host, target.port)}`),
    );
    const { runtime } = await applyAndVerify(c, `setServerStatus ${label(key)} ${target.status}`, { before, configBefore }, ({ runtime }) => {
      const got = runtime.find((r) => keyOf(r) === keyOf(key));
      if (target.status === 'OFFLINE_HARD') return got && got.status !== 'OFFLINE_HARD' ? [`${label(key)} is still ${got.status} at runtime`] : [];
      if (!got) return [`${label(key)} is missing from runtime`];
      return got.status === target.status ? [] : [`${label(key)} is ${got.status} at runtime, expected ${target.status}`];
    });
    return { before, after: runtime, configBefore };
  });
}

/** Replace mysql_servers with exactly `rows`, then LOAD + SAVE + verify (the compensation for the calls above). */
/**
 * `hostgroups`: only the rows of these hostgroups are replaced (one group's undo on a ProxySQL that routes other
 * groups too, whose changes meanwhile stay); without it the whole table.
 */
export async function restoreServers(endpoint: ProxySqlEndpoint, rows: ProxySqlServerInput[], hostgroups?: number[]): Promise<ChangeResult> {
  const ours = (r: { hostgroup_id: number }) => !hostgroups || hostgroups.includes(r.hostgroup_id);
  const wanted = sortRows(rows.map(fillDefaults).filter(ours));
  const seen = new Set<string>();
  for (const r of wanted) {
    if (seen.has(keyOf(r))) throw new Error(`restoreServers: duplicate row for ${label(r)}`);
    seen.add(keyOf(r));
  }
  return withAdminChange(endpoint, async (c) => {
    const before = await select(c, 'runtime');
    const configBefore = await select(c, 'memory');
    await editMemory(c, configBefore, async () => {
      if (!hostgroups) await exec(c, 'DELETE FROM mysql_servers');
      else for (const hg of hostgroups) await exec(c, `DELETE FROM mysql_servers WHERE hostgroup_id=${sqlInt(hg, 'hostgroup')}`);
      if (wanted.length) await exec(c, insertSql(wanted));
    });
    const expected = sortRows([...configBefore.filter((r) => !ours(r)), ...wanted]);
    const { runtime } = await applyAndVerify(c, 'restoreServers', { before, configBefore }, ({ memory }) =>
      sameRowSet(memory, expected) ? [] : ['mysql_servers in MEMORY is not exactly the requested rows'],
    );
    return { before, after: runtime, configBefore };
  });
}
