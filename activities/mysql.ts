// One short-lived connection per call: activities stay stateless and idempotent across worker restarts.
import mysql from 'mysql2/promise';
import type { ClientTools, Site } from '../config/schema';
import { resolveSecret } from './secrets';
import { replicationSyntax, type Dialect, type ReplicationSyntax } from '../domain/replication-syntax';

export type { Dialect };

/** What the server is, asked once per connection: the dialect and the statements of its version. */
export interface Server {
  dialect: Dialect;
  version: string;
  syntax: ReplicationSyntax;
}
export type Conn = mysql.Connection;

export interface DbContext {
  site: Site;
  baseDir: string;
  /** Where the dump, binlog and client tools are (config `clientTools`); PATH without it. */
  clientTools?: ClientTools;
}

export async function connect(ctx: DbContext, opts: { database?: string } = {}): Promise<Conn> {
  const m = ctx.site.mysql;
  try {
    return await mysql.createConnection({
      host: m.host,
      port: m.port,
      user: m.user,
      password: resolveSecret(m.password, ctx.baseDir),
      database: opts.database,
      connectTimeout: 3000,
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new Error(`site ${ctx.site.id}: cannot connect to MySQL at ${m.host}:${m.port} as ${m.user}: ${e.code ?? ''} ${e.message}`.trim());
  }
}

export async function withConnection<T>(ctx: DbContext, fn: (conn: Conn, dialect: Dialect, server: Server) => Promise<T>): Promise<T> {
  const conn = await connect(ctx);
  try {
    const server = await serverOf(conn, ctx.site.mysql.dialect);
    return await fn(conn, server.dialect, server);
  } finally {
    await conn.end().catch(() => conn.destroy());
  }
}

export async function serverOf(conn: Conn, configured: 'auto' | Dialect): Promise<Server> {
  const version = await scalar<string>(conn, 'SELECT VERSION()');
  const dialect = configured !== 'auto' ? configured : /mariadb/i.test(version) ? 'mariadb' : 'mysql';
  return { dialect, version, syntax: replicationSyntax(dialect, version) };
}

export async function rows<T = Record<string, unknown>>(conn: Conn, sql: string, params: unknown[] = []): Promise<T[]> {
  const [r] = await conn.query(sql, params);
  return r as T[];
}

export async function scalar<T>(conn: Conn, sql: string, params: unknown[] = []): Promise<T> {
  const [r] = await conn.query({ sql, rowsAsArray: true }, params);
  return (r as unknown[][])[0]?.[0] as T;
}
