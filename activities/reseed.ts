// Re-seed: replace the returning site's data with a consistent copy of the current primary, and record the
// primary's GTID position of that copy so replication starts exactly after it. MySQL's clone plugin where
// both servers have it (clone.ts); otherwise a dump piped straight into the returning site:
//   mysqldump --single-transaction --source-data=2 --set-gtid-purged=ON, or
//   mariadb-dump --single-transaction --gtid --master-data=2 (MariaDB takes the position from its consistent
//   binlog snapshot, without a global read lock).
// The returning site stays read-only throughout; its own binary log (with any errant transactions, already
// exported) is reset, and nothing of the load is written to it.
import { Transform } from 'node:stream';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Site } from '../config/schema';
import { rows, withConnection, type DbContext, type Dialect } from './mysql';
import { executedOf } from './catchup';
import { exportIntact } from './errant';
import { exited, spawn, tool, toolLogin } from './client-tools';
import { heartbeat } from './heartbeat';
import { cloneAvailable, cloneFrom } from './clone';

export type ReseedMethod = 'auto' | 'clone' | 'dump';

export interface ReseedInput {
  /** The current primary to copy. */
  source: Site;
  /** auto: clone where both servers have MySQL's clone plugin, dump otherwise (MariaDB, no plugin). */
  method?: ReseedMethod;
  /** Errant transactions this re-seed discards: refused unless their export is intact. */
  discards: { count: number; exportFile: string | null; sha256: string | null };
}

export interface ReseedResult {
  site: string;
  source: string;
  /** Absent in runs recorded before clone existed: those were dumps. */
  method?: 'clone' | 'dump';
  /** The source's GTID position of the copy: the returning site's replication position. */
  gtidPosition: string;
  databases: string[];
  /** Databases only the returning site had: dropped. */
  dropped: string[];
  bytes: number;
  tables: number;
  durationMs: number;
  executedAfter: string;
}

const SYSTEM = new Set(['mysql', 'information_schema', 'performance_schema', 'sys']);

export async function reseedFrom(db: DbContext, input: ReseedInput): Promise<ReseedResult> {
  const t0 = Date.now();
  const source: DbContext = { ...db, site: input.source };
  if (
    input.discards.count > 0 &&
    !(input.discards.exportFile && input.discards.sha256 && exportIntact(input.discards.exportFile, input.discards.sha256))
  ) {
    throw ApplicationFailure.nonRetryable(
      `site ${db.site.id}: refusing to re-seed: it would discard ${input.discards.count} errant transaction(s) and their export ${input.discards.exportFile ?? '(none)'} is missing or changed`,
      'NoExport',
    );
  }
  const databases = await withConnection(source, async (conn) =>
    (await rows<{ Database: string }>(conn, 'SHOW DATABASES')).map((r) => r.Database).filter((d) => !SYSTEM.has(d)),
  );
  if (await useClone(db, source, input.method ?? 'auto')) {
    const dropped = await withConnection(db, async (conn, _dialect, server) => {
      await conn.query(server.syntax.stop);
      await conn.query(server.syntax.resetAll);
      return (await rows<{ Database: string }>(conn, 'SHOW DATABASES'))
        .map((r) => r.Database)
        .filter((d) => !SYSTEM.has(d) && !databases.includes(d));
    });
    return cloneFrom(db, { ...input, databases, dropped });
  }
  // Prepare the target: read-only (never load into a writable server), no replication, no old binary log.
  const { dialect, dropped } = await withConnection(db, async (conn, dialect, server) => {
    const [ro] = await rows<{ ro: number }>(conn, 'SELECT @@global.read_only AS ro');
    if (Number(ro!.ro) !== 1)
      throw ApplicationFailure.nonRetryable(`site ${db.site.id}: is writable; a re-seed needs it fenced (read_only) first`, 'NotFenced');
    await conn.query(server.syntax.stop);
    await conn.query(server.syntax.resetAll);
    await conn.query('SET SESSION sql_log_bin = 0');
    const mine = (await rows<{ Database: string }>(conn, 'SHOW DATABASES')).map((r) => r.Database).filter((d) => !SYSTEM.has(d));
    const dropped = mine.filter((d) => !databases.includes(d));
    for (const d of dropped) await conn.query(`DROP DATABASE \`${d.replace(/`/g, '``')}\``);
    // The errant transactions leave the binary log here; the export holds them.
    await conn.query(server.syntax.resetBinlogs);
    // MySQL: super_read_only would stop the load too. read_only stays on, so only this user can write.
    if (dialect === 'mysql') await conn.query('SET GLOBAL super_read_only = OFF');
    return { dialect, dropped };
  });

  let bytes = 0;
  let tables = 0;
  let current = '';
  let position: string | null = null;
  let partial = '';
  let purged: string | null = null;
  // Comment lines carry the progress and the position (MariaDB prints it near the end: "deferred").
  const count = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      const lines = (partial + chunk.toString('latin1')).split('\n');
      partial = lines.pop()!.slice(0, 4096);
      for (const line of lines) {
        // MySQL writes a GTID set of several sources over several lines: SET @@GLOBAL.GTID_PURGED=… 'a:1-5,\nb:1-3';
        if (purged !== null) {
          purged += line;
          if (line.includes("'")) position = positionIn(dialect, purged) ?? position;
          if (line.includes(';')) purged = null;
          continue;
        }
        if (line.startsWith('SET @@GLOBAL.GTID_PURGED') && !/'[^']*'/.test(line.slice(line.indexOf('*/') + 1))) {
          purged = line;
          continue;
        }
        if (!line.startsWith('--') && !line.startsWith('SET @@GLOBAL')) continue;
        const table = /^-- Dumping data for table `([^`]+)`/.exec(line)?.[1];
        if (table) {
          tables++;
          current = table;
        }
        position = positionIn(dialect, line) ?? position;
      }
      done(null, chunk);
    },
  });
  const from = toolLogin(input.source, db.baseDir);
  const to = toolLogin(db.site, db.baseDir);
  const ticker = setInterval(() => heartbeat({ bytes, tables, current }), 1000);
  try {
    const dumpArgs =
      dialect === 'mysql'
        ? [
            from.optionFile,
            '--single-transaction',
            '--source-data=2',
            '--set-gtid-purged=ON',
            '--routines',
            '--events',
            '--triggers',
            '--add-drop-database',
            '--databases',
            ...databases,
          ]
        : [
            from.optionFile,
            '--single-transaction',
            '--gtid',
            '--master-data=2',
            '--routines',
            '--events',
            '--triggers',
            '--add-drop-database',
            '--databases',
            ...databases,
          ];
    const dump = spawn(tool(db, dialect, 'dump'), dumpArgs, { stdio: ['ignore', 'pipe', 'pipe'], signal: cancelSignal() });
    const load = spawn(tool(db, dialect, 'client'), [to.optionFile, '--init-command=SET SESSION sql_log_bin = 0', '--batch'], {
      stdio: ['pipe', 'ignore', 'pipe'],
      signal: cancelSignal(),
    });
    dump.stdout!.pipe(count).pipe(load.stdin!);
    await Promise.all([
      exited(dump, `${tool(db, dialect, 'dump')} of ${input.source.id}`),
      exited(load, `${tool(db, dialect, 'client')} into ${db.site.id}`),
    ]);
  } catch (err) {
    // A failed load must not leave a MySQL site without super_read_only; the retry lifts it again.
    if (dialect === 'mysql') await withConnection(db, (conn) => conn.query('SET GLOBAL super_read_only = ON')).catch(() => undefined);
    throw err;
  } finally {
    clearInterval(ticker);
    from.dispose();
    to.dispose();
  }
  if (position === null) throw ApplicationFailure.nonRetryable(`the dump of ${input.source.id} carried no GTID position`, 'NoPosition');
  const gtidPosition: string = position;

  const executedAfter = await withConnection(db, async (conn, dialect) => {
    // MariaDB: the position to replicate from is a setting; MySQL's dump already set gtid_purged.
    if (dialect === 'mariadb') await conn.query('SET GLOBAL gtid_slave_pos = ?', [gtidPosition]);
    else await conn.query('SET GLOBAL super_read_only = ON');
    return executedOf(conn, dialect);
  });
  return {
    site: db.site.id,
    source: input.source.id,
    method: 'dump',
    gtidPosition,
    databases,
    dropped,
    bytes,
    tables,
    durationMs: Date.now() - t0,
    executedAfter,
  };
}

async function useClone(db: DbContext, source: DbContext, method: ReseedMethod): Promise<boolean> {
  if (method === 'dump') return false;
  const available = await cloneAvailable(db, source);
  if (method === 'clone' && !available) {
    throw ApplicationFailure.nonRetryable(
      `site ${db.site.id}: failback.reseedMethod is 'clone', but ${db.site.id} or ${source.site.id} has no active clone plugin (MySQL 8.0.17+, plugin-load-add=mysql_clone.so)`,
      'BadConfig',
    );
  }
  return available;
}

/** The dump's commented position: MariaDB `-- SET GLOBAL gtid_slave_pos='…'`, MySQL `SET @@GLOBAL.GTID_PURGED=… '…'`. */
export function positionIn(dialect: Dialect, head: string): string | null {
  const m =
    dialect === 'mariadb'
      ? /^-- SET GLOBAL gtid_slave_pos\s*=\s*'([^']*)'/.exec(head)
      : /GTID_PURGED\s*=\s*(?:\/\*[^*]*\*\/\s*)?'([^']*)'/.exec(head);
  return m ? m[1]!.replace(/\s+/g, '') : null;
}

function cancelSignal(): AbortSignal | undefined {
  try {
    return Context.current().cancellationSignal;
  } catch {
    return undefined;
  }
}
