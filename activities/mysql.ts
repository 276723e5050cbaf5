// One short-lived connection per call: activities stay stateless and idempotent across worker restarts.
import mysql from 'mysql2/promise';
import type { Site } from '../config/schema';
import { resolveSecret } from './secrets';

export type Dialect = 'mysql' | 'mariadb';
export type Conn = mysql.Connection;

export interface DbContext {
  site: Site;
  baseDir: string;
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

export async function withConnection<T>(ctx: DbContext, fn: (conn: Conn, dialect: Dialect) => Promise<T>): Promise<T> {
  const conn = await connect(ctx);
  try {
    return await fn(conn, await dialectOf(conn, ctx.site.mysql.dialect));
  } finally {
    await conn.end().catch(() => conn.destroy());
  }
}

export async function dialectOf(conn: Conn, configured: 'auto' | Dialect): Promise<Dialect> {
  if (configured !== 'auto') return configured;
  const v = await scalar<string>(conn, 'SELECT VERSION()');
  return /mariadb/i.test(v) ? 'mariadb' : 'mysql';
}

export async function rows<T = Record<string, unknown>>(conn: Conn, sql: string, params: unknown[] = []): Promise<T[]> {
  const [r] = await conn.query(sql, params);
  return r as T[];
}

export async function scalar<T>(conn: Conn, sql: string, params: unknown[] = []): Promise<T> {
  const [r] = await conn.query({ sql, rowsAsArray: true }, params);
  return (r as unknown[][])[0]?.[0] as T;
}
