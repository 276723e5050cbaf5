// The MariaDB/MySQL command-line tools (mariadb-dump, mariadb-binlog, mariadb) with credentials from secret
// references. The password goes into a private option file that lives only while the tool runs: never argv,
// never the environment, never a workflow history.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Site } from '../config/schema';
import { resolveSecret } from './secrets';
import type { DbContext } from './mysql';

export interface ToolLogin {
  /** --defaults-extra-file=… : must be the first argument of the tool. */
  optionFile: string;
  dispose: () => void;
}

/** An option file for `site`'s admin user (or the given user and password reference). */
export function toolLogin(site: Site, baseDir: string, as?: { user: string; password: string }): ToolLogin {
  const dir = mkdtempSync(join(tmpdir(), 'dr-login-'));
  const file = join(dir, 'client.cnf');
  const password = resolveSecret(as?.password ?? site.mysql.password, baseDir);
  const quote = (v: string) => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  writeFileSync(
    file,
    `[client]\nhost=${site.mysql.host}\nport=${site.mysql.port}\nuser=${quote(as?.user ?? site.mysql.user)}\npassword=${quote(password)}\nprotocol=TCP\n`,
    { mode: 0o600 },
  );
  return { optionFile: `--defaults-extra-file=${file}`, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The tool for the dialect, from the config's `clientTools` folder for it, or PATH. */
export function tool(db: DbContext, dialect: 'mysql' | 'mariadb', name: 'dump' | 'binlog' | 'client'): string {
  const file =
    dialect === 'mysql'
      ? { dump: 'mysqldump', binlog: 'mysqlbinlog', client: 'mysql' }[name]
      : { dump: 'mariadb-dump', binlog: 'mariadb-binlog', client: 'mariadb' }[name];
  const dir = db.clientTools?.[dialect];
  return dir ? resolve(db.baseDir, dir, file) : file;
}

/** Waits for a tool to exit; a non-zero exit carries the end of its stderr. */
export function exited(child: ChildProcess, what: string): Promise<void> {
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-2000);
  });
  return new Promise((resolve, reject) => {
    child.once('error', (e) => reject(new Error(`${what}: ${e.message}`)));
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${what} exited with ${signal ?? `code ${code}`}: ${err.trim().split('\n').slice(-5).join(' | ')}`));
    });
  });
}

export { spawn };
