// The drill's own write stream: sequence-numbered rows in a drill table, at a steady rate, like a client.
// Every answer (acknowledged or refused) goes to a journal on the client's own disk before the next write, so
// the stream survives a worker restart (it resumes after the last sequence number) and can be read after a
// site that was cut off comes back. The journal, not the database, is the truth about what was acknowledged.
import { Context } from '@temporalio/activity';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type mysql from 'mysql2/promise';
import type { StreamWrite } from '../domain/drill';

/** Where the stream writes: the table, and how to reach the server that takes writes now. */
export interface StreamTarget {
  table: string;
  /** A connection to the current writer, and the site it belongs to. */
  open(): Promise<{ conn: mysql.Connection; site: string }>;
}

export interface StreamInput {
  /** The drill run: `<workflowId>-<runId prefix>`. */
  drill: string;
  writer: string;
  ratePerSecond: number;
  /** A stream that is never told to stop (its site was cut off) stops by itself after this. */
  maxMs: number;
}

export interface StreamSummary {
  writer: string;
  acked: number;
  failed: number;
  lastSeq: number;
}

export const journalFile = (dir: string, drill: string, writer: string): string => join(dir, `${drill}-${writer}.jsonl`);

export function readJournal(file: string): StreamWrite[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as StreamWrite];
      } catch {
        return []; // a line cut short by a kill
      }
    });
}

/** Writes until cancelled or maxMs; resumes after the journal's last acknowledged sequence number. */
export async function streamWrites(target: StreamTarget, dir: string, i: StreamInput): Promise<StreamSummary> {
  const ctx = Context.current();
  const file = journalFile(dir, i.drill, i.writer);
  mkdirSync(dirname(file), { recursive: true });
  const before = readJournal(file);
  const summary: StreamSummary = { writer: i.writer, acked: 0, failed: 0, lastSeq: Math.max(0, ...before.filter((w) => w.ok).map((w) => w.seq)) };
  const interval = 1000 / i.ratePerSecond;
  const deadline = Date.now() + i.maxMs;
  let open: { conn: mysql.Connection; site: string } | undefined;
  try {
    for (let next = Date.now(); Date.now() < deadline;) {
      const seq = summary.lastSeq + 1;
      const answer = await writeOne(target, i, seq, open).catch(() => null);
      open = answer?.open;
      const write: StreamWrite = { writer: i.writer, seq, at: Date.now(), site: answer?.site ?? null, ok: answer !== null };
      appendFileSync(file, `${JSON.stringify(write)}\n`);
      if (write.ok) {
        summary.acked++;
        summary.lastSeq = seq;
      } else summary.failed++;
      ctx.heartbeat(summary);
      next += interval;
      const wait = next - Date.now();
      if (wait < -1000) next = Date.now();
      await ctx.sleep(Math.max(0, wait));
    }
  } finally {
    open?.conn.destroy();
  }
  return summary;
}

/** One insert. A duplicate means an earlier attempt committed and its answer was lost: that is an acknowledgement. */
async function writeOne(
  target: StreamTarget,
  i: StreamInput,
  seq: number,
  open: { conn: mysql.Connection; site: string } | undefined,
): Promise<{ open: { conn: mysql.Connection; site: string } | undefined; site: string }> {
  const current = open ?? (await target.open());
  try {
    await current.conn.query({ sql: `INSERT INTO ${target.table} (drill, writer, seq) VALUES (?, ?, ?)`, timeout: 2000 }, [i.drill, i.writer, seq]);
    return { open: current, site: current.site };
  } catch (err) {
    if ((err as { code?: string }).code === 'ER_DUP_ENTRY') return { open: current, site: current.site };
    current.conn.destroy();
    throw err;
  }
}

/** The sequence numbers of each writer of a drill that a server holds, as ranges. */
export async function streamRows(conn: mysql.Connection, table: string, drill: string): Promise<Record<string, Array<[number, number]>>> {
  const [rows] = await conn.query({ sql: `SELECT writer, seq FROM ${table} WHERE drill = ? ORDER BY writer, seq`, rowsAsArray: true }, [drill]);
  const out: Record<string, Array<[number, number]>> = {};
  for (const [writer, raw] of rows as Array<[string, number | string]>) {
    const seq = Number(raw);
    const ranges = (out[writer] ??= []);
    const last = ranges.at(-1);
    if (last && last[1] + 1 === seq) last[1] = seq;
    else ranges.push([seq, seq]);
  }
  return out;
}
