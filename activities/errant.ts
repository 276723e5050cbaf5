// Errant transactions: executed on a returning site but never on the current primary. Before anything may
// discard them they are exported, event for event, with mariadb-binlog/mysqlbinlog reading the site's own
// binary log, into a file a person can reconcile from. The export is checked against the list it was given.
import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { GtidRange } from '../domain/gtid';
import { rows, withConnection, type Conn, type DbContext, type Dialect } from './mysql';
import { exited, spawn, tool, toolLogin } from './client-tools';
import { heartbeat } from './heartbeat';

export interface ErrantExport {
  site: string;
  file: string;
  sha256: string;
  bytes: number;
  transactions: number;
  gtids: string[];
  /** Tables the exported row events touch (schema.table). */
  tables: string[];
  /** Statements that are not row events (DDL, statement-based DML), shortened. */
  statements: string[];
  /** Where in the binary log the events were: one mariadb-binlog run each. */
  chunks: Array<{ binlog: string; start: number; stop: number; transactions: number }>;
  exportedAt: string;
}

interface Txn {
  gtid: string;
  file: string;
  fileIndex: number;
  start: number;
  end: number;
  tables: Set<string>;
  statements: string[];
}

interface BinlogEvent {
  Log_name: string;
  Pos: number;
  Event_type: string;
  End_log_pos: number;
  Info: string;
}

// Events that belong to no transaction: they end the one before them.
const OUTSIDE = new Set(['Format_desc', 'Rotate', 'Stop', 'Binlog_checkpoint', 'Gtid_list', 'Previous_gtids', 'Start_encryption', 'Anonymous_Gtid']);

/** Every GTID of `ranges`, spelled as the binary log spells it (MariaDB d-s-n, MySQL uuid:n). */
export function expandRanges(dialect: Dialect, ranges: GtidRange[]): string[] {
  const out: string[] = [];
  for (const r of ranges) for (let n = r.from; n <= r.to; n++) out.push(dialect === 'mysql' ? `${r.source}:${n}` : `${r.source}-${n}`);
  return out;
}

function gtidOf(dialect: Dialect, e: BinlogEvent): string | null {
  if (e.Event_type !== 'Gtid') return null;
  if (dialect === 'mariadb') return /GTID (\d+-\d+-\d+)/.exec(e.Info)?.[1] ?? null;
  return /GTID_NEXT\s*=\s*'([0-9a-fA-F-]+:\d+)'/.exec(e.Info)?.[1]?.toLowerCase() ?? null;
}

/** Finds the transactions in the binary logs, newest file first, until every wanted one is found. */
async function locate(db: DbContext, wanted: Set<string>): Promise<{ dialect: Dialect; found: Txn[] }> {
  return withConnection(db, async (conn, dialect) => {
    const logs = (await rows<{ Log_name: string }>(conn, 'SHOW BINARY LOGS')).map((r) => r.Log_name);
    const found: Txn[] = [];
    for (let i = logs.length - 1; i >= 0 && found.length < wanted.size; i--) {
      let cur: Txn | null = null;
      for await (const e of eventsOf(conn, logs[i]!)) {
        const g = gtidOf(dialect, e);
        if (g !== null || OUTSIDE.has(e.Event_type)) {
          cur = null;
          if (g !== null && wanted.has(g)) {
            cur = { gtid: g, file: logs[i]!, fileIndex: i, start: Number(e.Pos), end: Number(e.End_log_pos), tables: new Set(), statements: [] };
            found.push(cur);
          }
          continue;
        }
        if (!cur) continue;
        cur.end = Number(e.End_log_pos);
        const table = e.Event_type === 'Table_map' ? /\(([^)]+)\)/.exec(e.Info)?.[1] : undefined;
        if (table) cur.tables.add(table);
        if (e.Event_type === 'Query' && !/^(BEGIN|COMMIT|ROLLBACK)\b/i.test(e.Info.trim())) cur.statements.push(e.Info.trim().slice(0, 200));
      }
      heartbeat({ scanned: logs[i], found: found.length, of: wanted.size });
    }
    return { dialect, found };
  });
}

/** A binary log's events in pages, so a large log neither fills memory nor outlasts a heartbeat. */
async function* eventsOf(conn: Conn, log: string, page = 5000): AsyncGenerator<BinlogEvent> {
  for (let from = 4; ;) {
    const events = await rows<BinlogEvent>(conn, `SHOW BINLOG EVENTS IN ? FROM ${from} LIMIT ${page}`, [log]);
    yield* events;
    heartbeat({ scanning: log, at: from });
    if (events.length < page) return;
    from = Number(events.at(-1)!.End_log_pos);
  }
}

/** Exports `ranges` (the workflow's errant set) from this site's binary log into `dir`. Idempotent per `name`. */
export async function exportErrant(
  db: DbContext,
  input: { dialect: Dialect; ranges: GtidRange[]; dir: string; name: string; currentPrimary: string },
): Promise<ErrantExport> {
  const wantedList = expandRanges(input.dialect, input.ranges);
  const wanted = new Set(wantedList);
  const { dialect, found } = await locate(db, wanted);
  if (found.length !== wanted.size) {
    const have = new Set(found.map((t) => t.gtid));
    const missing = wantedList.filter((g) => !have.has(g));
    throw ApplicationFailure.nonRetryable(
      `site ${db.site.id}: ${missing.length} errant transaction(s) are no longer in its binary log (${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', …' : ''}): ` +
        'they cannot be exported, so they must not be discarded; reconcile by hand before a failback',
      'ExportIncomplete',
    );
  }
  found.sort((a, b) => a.fileIndex - b.fileIndex || a.start - b.start);
  const chunks: ErrantExport['chunks'] = [];
  for (const t of found) {
    const last = chunks.at(-1);
    if (last && last.binlog === t.file && last.stop === t.start) {
      last.stop = t.end;
      last.transactions++;
    } else {
      chunks.push({ binlog: t.file, start: t.start, stop: t.end, transactions: 1 });
    }
  }
  const tables = [...new Set(found.flatMap((t) => [...t.tables]))].sort();
  const statements = found.flatMap((t) => t.statements);

  mkdirSync(input.dir, { recursive: true });
  const file = join(input.dir, `${input.name}.sql`);
  writeFileSync(
    file,
    [
      `-- Errant transactions of site ${db.site.id} (${db.site.mysql.host}:${db.site.mysql.port}): executed there, never on ${input.currentPrimary}.`,
      `-- Exported by ${input.name} at ${new Date().toISOString()} with ${tool(db, dialect, 'binlog')}, before the site is re-seeded.`,
      `-- ${found.length} transaction(s): ${wantedList.length > 20 ? `${wantedList.slice(0, 20).join(', ')}, …` : wantedList.join(', ')}`,
      `-- Tables: ${tables.join(', ') || 'none (no row events)'}`,
      '-- The decoded rows are in the "###" comments. Reconcile on the current primary by hand: replaying this file',
      '-- as it is would reuse the GTIDs above, which the current primary has already given to other transactions.',
      '',
    ].join('\n'),
  );
  const login = toolLogin(db.site, db.baseDir);
  try {
    for (const c of chunks) {
      const out = createWriteStream(file, { flags: 'a' });
      const child = spawn(
        tool(db, dialect, 'binlog'),
        [login.optionFile, '--read-from-remote-server', '--verbose', `--start-position=${c.start}`, `--stop-position=${c.stop}`, c.binlog],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      child.stdout!.pipe(out);
      await Promise.all([
        exited(child, `${tool(db, dialect, 'binlog')} ${c.binlog} ${c.start}..${c.stop}`),
        new Promise<void>((r) => out.once('close', () => r())),
      ]);
      heartbeat({ exported: c });
    }
  } finally {
    login.dispose();
  }

  // The file must hold exactly the transactions asked for: no more, no fewer.
  const text = readFileSync(file, 'utf8');
  const inFile = new Set(
    dialect === 'mariadb'
      ? [...text.matchAll(/^#.*\bGTID (\d+-\d+-\d+)/gm)].map((m) => m[1]!)
      : [...text.matchAll(/GTID_NEXT\s*=\s*'([0-9a-fA-F-]+:\d+)'/g)].map((m) => m[1]!.toLowerCase()),
  );
  const missing = wantedList.filter((g) => !inFile.has(g));
  const extra = [...inFile].filter((g) => !wanted.has(g));
  if (missing.length || extra.length) {
    throw ApplicationFailure.nonRetryable(
      `export ${file} does not match the errant set: missing ${missing.join(', ') || 'none'}; extra ${extra.join(', ') || 'none'}`,
      'ExportMismatch',
    );
  }
  return {
    site: db.site.id,
    file,
    sha256: createHash('sha256').update(text).digest('hex'),
    bytes: statSync(file).size,
    transactions: found.length,
    gtids: wantedList,
    tables,
    statements,
    chunks,
    exportedAt: new Date().toISOString(),
  };
}

/** True when `file` is still the export that was reported (the re-seed checks before it discards anything). */
export function exportIntact(file: string, sha256: string): boolean {
  try {
    return createHash('sha256').update(readFileSync(file, 'utf8')).digest('hex') === sha256;
  } catch {
    return false;
  }
}
