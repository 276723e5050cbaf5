/**
 * ProxySQL admin-interface emulator (NOT ProxySQL).
 *
 * ProxySQL cannot be installed from the registries this project can reach, so this process
 * emulates the part of ProxySQL's *admin interface* (port 6032 in a real deployment) that our
 * runbooks drive: the `mysql_servers` and `mysql_replication_hostgroups` tables in the three
 * configuration layers MEMORY (`main.`), RUNTIME (`runtime_` tables) and DISK (`disk.`), and the
 * `LOAD/SAVE MYSQL SERVERS ...` commands that move them between layers. It speaks the MySQL wire
 * protocol (mysql2's server API) with real mysql_native_password authentication, so the adapter in
 * activities/proxysql.ts is exercised with exactly the admin SQL it would send to ProxySQL.
 *
 * It does not proxy any traffic, has no monitor module and never shuns a server on its own.
 * See docs/proxysql-emulator.md for the exact list of emulated and non-emulated semantics.
 *
 * Usage:
 *   npx tsx lab/proxysql-emulator.ts --port P --user U --password PW --state FILE
 *       [--host 127.0.0.1] [--seed FILE.json]
 * `--port 0` picks a free port; the chosen port is reported in the ready line
 * `{"ready":true,"port":P}` printed on stdout once the listener is up.
 * `--fault ignore-load` is for tests only (see Fault below).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import mysql from 'mysql2';

export const EMULATOR_VERSION = '2.5.5-emulator';

// ---------------------------------------------------------------------------------------------
// Schema (mirrors ProxySQL 2.5's ADMIN_SQLITE_TABLE_MYSQL_SERVERS_V2_0_11 and
// ADMIN_SQLITE_TABLE_MYSQL_REPLICATION_HOSTGROUPS_V2_0_8 definitions)
// ---------------------------------------------------------------------------------------------

export type Value = string | number | null;
export type Row = Record<string, Value>;
export type TableName = 'mysql_servers' | 'mysql_replication_hostgroups';
type Layer = 'memory' | 'runtime' | 'disk';
type Tables = Record<TableName, Row[]>;

interface Column {
  name: string;
  int: boolean; // INT affinity (otherwise VARCHAR / TEXT affinity)
  def?: Value; // DEFAULT; undefined = no default (NULL, which then fails NOT NULL)
  check?: (v: Value, row: Row) => boolean;
  checkSql?: string; // the CHECK expression as written in ProxySQL's CREATE TABLE
}

interface TableDef {
  name: TableName;
  columns: Column[];
  unique: string[][]; // PRIMARY KEY first, then UNIQUE constraints
}

const n = (v: Value): number => (typeof v === 'number' ? v : NaN);
const between = (lo: number, hi: number) => (v: Value) => n(v) >= lo && n(v) <= hi;
const oneOf =
  (...xs: number[]) =>
  (v: Value) =>
    xs.includes(n(v));

export const SERVER_STATUSES = ['ONLINE', 'SHUNNED', 'OFFLINE_SOFT', 'OFFLINE_HARD'] as const;
const CHECK_TYPES = ['read_only', 'innodb_read_only', 'super_read_only', 'read_only|innodb_read_only', 'read_only&innodb_read_only'];

const MYSQL_SERVERS: TableDef = {
  name: 'mysql_servers',
  columns: [
    { name: 'hostgroup_id', int: true, def: 0, check: (v) => n(v) >= 0, checkSql: 'hostgroup_id>=0' },
    { name: 'hostname', int: false },
    { name: 'port', int: true, def: 3306, check: between(0, 65535), checkSql: 'port >= 0 AND port <= 65535' },
    {
      name: 'gtid_port',
      int: true,
      def: 0,
      check: (v, r) => (v !== r.port || v === 0) && between(0, 65535)(v),
      checkSql: '(gtid_port <> port OR gtid_port=0) AND gtid_port >= 0 AND gtid_port <= 65535',
    },
    {
      name: 'status',
      int: false,
      def: 'ONLINE',
      check: (v) => (SERVER_STATUSES as readonly string[]).includes(String(v).toUpperCase()),
      checkSql: "UPPER(status) IN ('ONLINE','SHUNNED','OFFLINE_SOFT', 'OFFLINE_HARD')",
    },
    { name: 'weight', int: true, def: 1, check: between(0, 10000000), checkSql: 'weight >= 0 AND weight <=10000000' },
    { name: 'compression', int: true, def: 0, check: oneOf(0, 1), checkSql: 'compression IN(0,1)' },
    { name: 'max_connections', int: true, def: 1000, check: (v) => n(v) >= 0, checkSql: 'max_connections >=0' },
    {
      name: 'max_replication_lag',
      int: true,
      def: 0,
      check: between(0, 126144000),
      checkSql: 'max_replication_lag >= 0 AND max_replication_lag <= 126144000',
    },
    { name: 'use_ssl', int: true, def: 0, check: oneOf(0, 1), checkSql: 'use_ssl IN(0,1)' },
    { name: 'max_latency_ms', int: true, def: 0, check: (v) => n(v) >= 0, checkSql: 'max_latency_ms>=0' },
    { name: 'comment', int: false, def: '' },
  ],
  unique: [['hostgroup_id', 'hostname', 'port']],
};

const MYSQL_REPLICATION_HOSTGROUPS: TableDef = {
  name: 'mysql_replication_hostgroups',
  columns: [
    { name: 'writer_hostgroup', int: true, check: (v) => n(v) >= 0, checkSql: 'writer_hostgroup>=0' },
    {
      name: 'reader_hostgroup',
      int: true,
      check: (v, r) => v !== r.writer_hostgroup && n(v) >= 0,
      checkSql: 'reader_hostgroup<>writer_hostgroup AND reader_hostgroup>=0',
    },
    {
      name: 'check_type',
      int: false,
      def: 'read_only',
      check: (v) => CHECK_TYPES.includes(String(v).toLowerCase()),
      checkSql: "LOWER(check_type) IN ('read_only','innodb_read_only','super_read_only','read_only|innodb_read_only','read_only&innodb_read_only')",
    },
    { name: 'comment', int: false, def: '' },
  ],
  unique: [['writer_hostgroup'], ['reader_hostgroup']],
};

const TABLE_DEFS: Record<TableName, TableDef> = {
  mysql_servers: MYSQL_SERVERS,
  mysql_replication_hostgroups: MYSQL_REPLICATION_HOSTGROUPS,
};

/** An error returned to the client. ProxySQL's admin reports SQLite errors as errno 1045 / SQLSTATE 28000. */
export class AdminError extends Error {
  constructor(
    message: string,
    readonly errno = 1045,
    readonly sqlState = '28000',
  ) {
    super(message);
  }
}

const adminError = (msg: string) => new AdminError(`ProxySQL Admin Error: ${msg}`);
const unsupported = (msg: string) => adminError(`${msg} [not supported by the ProxySQL admin emulator]`);

// ---------------------------------------------------------------------------------------------
// Values and constraints (SQLite semantics, slightly stricter where noted in the docs)
// ---------------------------------------------------------------------------------------------

/** Apply the column's type affinity to a literal. */
function coerce(table: TableDef, col: Column, v: Value): Value {
  if (v === null) return null;
  if (col.int) {
    if (typeof v === 'number') {
      if (Number.isInteger(v)) return v;
    } else if (/^\s*[-+]?\d+(\.0*)?\s*$/.test(v)) {
      return Number.parseInt(v, 10);
    }
    // SQLite would store this as REAL/TEXT and let the CHECK decide; the emulator refuses it outright.
    throw adminError(`datatype mismatch: ${JSON.stringify(v)} for INT column ${table.name}.${col.name}`);
  }
  return typeof v === 'number' ? String(v) : v;
}

function pkKey(cols: string[], row: Row): string {
  return JSON.stringify(cols.map((c) => row[c]));
}

type Conflict = 'ABORT' | 'IGNORE' | 'REPLACE';

/**
 * NOT NULL then CHECK, in SQLite's order. Returns the (possibly default-filled) row, or null if the
 * row must be skipped (OR IGNORE).
 */
function checkRow(table: TableDef, row: Row, conflict: Conflict): Row | null {
  for (const col of table.columns) {
    if (row[col.name] === null || row[col.name] === undefined) {
      if (conflict === 'IGNORE') return null;
      if (conflict === 'REPLACE' && col.def !== undefined) {
        row[col.name] = col.def;
        continue;
      }
      throw adminError(`NOT NULL constraint failed: ${table.name}.${col.name}`);
    }
  }
  for (const col of table.columns) {
    if (col.check && !col.check(row[col.name] as Value, row)) {
      if (conflict === 'IGNORE') return null;
      throw adminError(`CHECK constraint failed: ${col.checkSql}`);
    }
  }
  return row;
}

function uniqueViolation(table: TableDef, cols: string[]): AdminError {
  return adminError(`UNIQUE constraint failed: ${cols.map((c) => `${table.name}.${c}`).join(', ')}`);
}

/** INSERT [OR IGNORE | OR REPLACE] of literal rows, atomically (statement-level rollback on error). */
function insertRows(table: TableDef, current: Row[], cols: string[] | undefined, tuples: Value[][], conflict: Conflict) {
  const names = cols ?? table.columns.map((c) => c.name);
  for (const name of names) {
    if (!table.columns.some((c) => c.name === name)) throw adminError(`table ${table.name} has no column named ${name}`);
  }
  const out = current.map((r) => ({ ...r }));
  let affected = 0;
  for (const tuple of tuples) {
    if (tuple.length !== names.length) {
      throw adminError(
        cols
          ? `${tuple.length} values for ${names.length} columns`
          : `table ${table.name} has ${names.length} columns but ${tuple.length} values were supplied`,
      );
    }
    const row: Row = {};
    for (const col of table.columns) {
      const idx = names.indexOf(col.name);
      row[col.name] = idx >= 0 ? coerce(table, col, tuple[idx] as Value) : (col.def ?? null);
    }
    const checked = checkRow(table, row, conflict);
    if (!checked) continue;
    let skip = false;
    for (const u of table.unique) {
      const key = pkKey(u, checked);
      const clash = out.findIndex((r) => pkKey(u, r) === key);
      if (clash < 0) continue;
      if (conflict === 'IGNORE') {
        skip = true;
        break;
      }
      if (conflict === 'REPLACE') {
        out.splice(clash, 1);
        continue;
      }
      throw uniqueViolation(table, u);
    }
    if (skip) continue;
    out.push(checked);
    affected++;
  }
  return { rows: out, affected };
}

// ---------------------------------------------------------------------------------------------
// SQL tokenizer and parser (a deliberately small subset; everything else is an error)
// ---------------------------------------------------------------------------------------------

interface Token {
  kind: 'ident' | 'qident' | 'number' | 'string' | 'op' | 'sysvar';
  text: string;
  value?: string | number;
  start: number;
  end: number;
}

function tokenize(sql: string): Token[] {
  const toks: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i] as string;
    const start = i;
    if (/\s/.test(ch)) {
      i++;
    } else if (/[A-Za-z_]/.test(ch)) {
      while (i < sql.length && /[A-Za-z0-9_$]/.test(sql[i] as string)) i++;
      toks.push({ kind: 'ident', text: sql.slice(start, i), start, end: i });
    } else if (/[0-9]/.test(ch)) {
      while (i < sql.length && /[0-9]/.test(sql[i] as string)) i++;
      if (sql[i] === '.' && /[0-9]/.test(sql[i + 1] ?? '')) {
        i++;
        while (i < sql.length && /[0-9]/.test(sql[i] as string)) i++;
      }
      const text = sql.slice(start, i);
      toks.push({ kind: 'number', text, value: Number(text), start, end: i });
    } else if (ch === "'") {
      let val = '';
      i++;
      for (;;) {
        if (i >= sql.length) throw adminError(`unrecognized token: "${sql.slice(start, start + 20)}"`);
        if (sql[i] === "'") {
          if (sql[i + 1] === "'") {
            val += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        val += sql[i];
        i++;
      }
      toks.push({ kind: 'string', text: sql.slice(start, i), value: val, start, end: i });
    } else if (ch === '`' || ch === '"') {
      const close = sql.indexOf(ch, i + 1);
      if (close < 0) throw adminError(`unrecognized token: "${sql.slice(start, start + 20)}"`);
      toks.push({ kind: 'qident', text: sql.slice(start, close + 1), value: sql.slice(i + 1, close), start, end: close + 1 });
      i = close + 1;
    } else if (ch === '@' && sql[i + 1] === '@') {
      i += 2;
      while (i < sql.length && /[A-Za-z0-9_.-]/.test(sql[i] as string)) i++;
      toks.push({ kind: 'sysvar', text: sql.slice(start, i), start, end: i });
    } else {
      const two = sql.slice(i, i + 2);
      if (['<>', '!=', '==', '<=', '>='].includes(two)) {
        toks.push({ kind: 'op', text: two, start, end: i + 2 });
        i += 2;
      } else if ('=<>(),*;.-+'.includes(ch)) {
        toks.push({ kind: 'op', text: ch, start, end: i + 1 });
        i++;
      } else {
        throw adminError(`unrecognized token: "${ch}"`);
      }
    }
  }
  return toks;
}

interface Pred {
  col: string;
  op: '=' | '<>' | 'IN' | 'IS NULL' | 'IS NOT NULL';
  values: Value[];
}
interface OrderTerm {
  col: string;
  desc: boolean;
}
type SelectItem = { kind: 'col'; col: string; label: string } | { kind: 'count'; label: string };

type Stmt =
  | { type: 'select-const'; items: { label: string; value: Value }[] }
  | { type: 'select'; star: boolean; items: SelectItem[]; table: string; where: Pred[]; order: OrderTerm[]; limit?: number }
  | { type: 'insert'; conflict: Conflict; table: string; cols?: string[]; tuples: Value[][] }
  | { type: 'update'; table: string; sets: [string, Value][]; where: Pred[] }
  | { type: 'delete'; table: string; where: Pred[] };

class Parser {
  private i = 0;
  constructor(
    private readonly sql: string,
    private readonly toks: Token[],
  ) {}

  peek(o = 0): Token | undefined {
    return this.toks[this.i + o];
  }
  next(): Token {
    const t = this.toks[this.i++];
    if (!t) throw this.syntaxError(undefined);
    return t;
  }
  atEnd(): boolean {
    return this.i >= this.toks.length;
  }
  isKw(kw: string, o = 0): boolean {
    const t = this.peek(o);
    return t?.kind === 'ident' && t.text.toUpperCase() === kw;
  }
  acceptKw(kw: string): boolean {
    if (this.isKw(kw)) {
      this.i++;
      return true;
    }
    return false;
  }
  expectKw(kw: string): void {
    if (!this.acceptKw(kw)) throw this.syntaxError(this.peek(), `expected ${kw}`);
  }
  isOp(op: string, o = 0): boolean {
    const t = this.peek(o);
    return t?.kind === 'op' && t.text === op;
  }
  acceptOp(op: string): boolean {
    if (this.isOp(op)) {
      this.i++;
      return true;
    }
    return false;
  }
  expectOp(op: string): void {
    if (!this.acceptOp(op)) throw this.syntaxError(this.peek(), `expected "${op}"`);
  }
  expectEnd(): void {
    if (!this.atEnd()) throw this.syntaxError(this.peek());
  }
  syntaxError(t: Token | undefined, hint?: string): AdminError {
    const near = t ? t.text : 'end of statement';
    return adminError(`near "${near}": syntax error${hint ? ` (${hint})` : ''}`);
  }

  identifier(): string {
    const t = this.next();
    if (t.kind === 'ident') return t.text.toLowerCase();
    if (t.kind === 'qident') return String(t.value).toLowerCase();
    throw this.syntaxError(t, 'expected an identifier');
  }
  tableName(): string {
    let name = this.identifier();
    if (this.acceptOp('.')) name = `${name}.${this.identifier()}`;
    return name;
  }
  literal(): Value {
    const t = this.next();
    if (t.kind === 'string') return t.value as string;
    if (t.kind === 'number') return t.value as number;
    if (t.kind === 'op' && (t.text === '-' || t.text === '+')) {
      const num = this.next();
      if (num.kind !== 'number') throw this.syntaxError(num, 'expected a number');
      return t.text === '-' ? -(num.value as number) : (num.value as number);
    }
    if (t.kind === 'ident' && t.text.toUpperCase() === 'NULL') return null;
    throw this.syntaxError(t, 'only literal values (numbers, single-quoted strings, NULL) are supported by the emulator');
  }
  where(): Pred[] {
    const preds: Pred[] = [];
    if (!this.acceptKw('WHERE')) return preds;
    do {
      const col = this.identifier();
      if (this.acceptKw('IS')) {
        const not = this.acceptKw('NOT');
        this.expectKw('NULL');
        preds.push({ col, op: not ? 'IS NOT NULL' : 'IS NULL', values: [] });
      } else if (this.acceptKw('IN')) {
        this.expectOp('(');
        const values = [this.literal()];
        while (this.acceptOp(',')) values.push(this.literal());
        this.expectOp(')');
        preds.push({ col, op: 'IN', values });
      } else {
        const t = this.next();
        let op: Pred['op'];
        if (t.kind === 'op' && (t.text === '=' || t.text === '==')) op = '=';
        else if (t.kind === 'op' && (t.text === '<>' || t.text === '!=')) op = '<>';
        else throw this.syntaxError(t, 'WHERE supports only col = value, col <> value, col IN (...), col IS [NOT] NULL');
        preds.push({ col, op, values: [this.literal()] });
      }
    } while (this.acceptKw('AND'));
    if (this.isKw('OR')) throw this.syntaxError(this.peek(), 'OR is not supported by the emulator; use AND or IN (...)');
    return preds;
  }

  statement(): Stmt {
    const first = this.peek();
    const kw = first?.kind === 'ident' ? first.text.toUpperCase() : '';
    switch (kw) {
      case 'SELECT':
        return this.select();
      case 'INSERT':
      case 'REPLACE':
        return this.insert();
      case 'UPDATE':
        return this.update();
      case 'DELETE':
        return this.del();
      default:
        throw this.syntaxError(first, 'statement not supported by the ProxySQL admin emulator');
    }
  }

  private select(): Stmt {
    this.expectKw('SELECT');
    const hasFrom = this.toks.some((t, idx) => idx > this.i && t.kind === 'ident' && t.text.toUpperCase() === 'FROM');
    if (!hasFrom) return this.selectConst();
    let star = false;
    const items: SelectItem[] = [];
    if (this.acceptOp('*')) {
      star = true;
    } else {
      do {
        const start = this.peek();
        if (this.isKw('COUNT') && this.isOp('(', 1)) {
          this.i += 2;
          this.expectOp('*');
          this.expectOp(')');
          items.push({ kind: 'count', label: this.alias(this.sql.slice(start?.start, this.toks[this.i - 1]?.end)) });
        } else {
          const col = this.identifier();
          items.push({ kind: 'col', col, label: this.alias(col) });
        }
      } while (this.acceptOp(','));
    }
    this.expectKw('FROM');
    const table = this.tableName();
    const where = this.where();
    const order: OrderTerm[] = [];
    if (this.acceptKw('ORDER')) {
      this.expectKw('BY');
      do {
        const col = this.identifier();
        const desc = this.acceptKw('DESC');
        if (!desc) this.acceptKw('ASC');
        order.push({ col, desc });
      } while (this.acceptOp(','));
    }
    let limit: number | undefined;
    if (this.acceptKw('LIMIT')) {
      const t = this.next();
      if (t.kind !== 'number' || !Number.isInteger(t.value)) throw this.syntaxError(t, 'LIMIT takes an integer');
      limit = t.value as number;
    }
    this.expectEnd();
    if (items.some((it) => it.kind === 'count') && items.length > 1) {
      throw unsupported('mixing COUNT(*) with columns (no GROUP BY support)');
    }
    return { type: 'select', star, items, table, where, order, limit };
  }

  private alias(label: string): string {
    if (this.acceptKw('AS')) return this.identifier();
    return label;
  }

  /** SELECT without FROM: literals, @@version, version(). */
  private selectConst(): Stmt {
    const items: { label: string; value: Value }[] = [];
    do {
      const t = this.peek();
      if (!t) throw this.syntaxError(t);
      let value: Value;
      let label: string;
      if (t.kind === 'sysvar') {
        this.i++;
        if (!/^@@(global\.|session\.)?version$/i.test(t.text)) {
          throw unsupported(`system variable ${t.text}`);
        }
        value = EMULATOR_VERSION;
        label = t.text;
      } else if (t.kind === 'ident' && t.text.toUpperCase() === 'VERSION' && this.isOp('(', 1) && this.isOp(')', 2)) {
        this.i += 3;
        value = EMULATOR_VERSION;
        label = this.sql.slice(t.start, this.toks[this.i - 1]?.end);
      } else {
        value = this.literal();
        label = this.sql.slice(t.start, this.toks[this.i - 1]?.end);
      }
      items.push({ label: this.alias(label), value });
    } while (this.acceptOp(','));
    this.expectEnd();
    return { type: 'select-const', items };
  }

  private insert(): Stmt {
    let conflict: Conflict = 'ABORT';
    if (this.acceptKw('REPLACE')) {
      conflict = 'REPLACE';
    } else {
      this.expectKw('INSERT');
      if (this.acceptKw('OR')) {
        if (this.acceptKw('REPLACE')) conflict = 'REPLACE';
        else if (this.acceptKw('IGNORE')) conflict = 'IGNORE';
        else throw this.syntaxError(this.peek(), 'the emulator supports INSERT OR REPLACE and INSERT OR IGNORE');
      }
    }
    this.expectKw('INTO');
    const table = this.tableName();
    let cols: string[] | undefined;
    if (this.acceptOp('(')) {
      cols = [this.identifier()];
      while (this.acceptOp(',')) cols.push(this.identifier());
      this.expectOp(')');
    }
    if (!this.isKw('VALUES')) throw this.syntaxError(this.peek(), 'the emulator supports only INSERT ... VALUES (...)');
    this.expectKw('VALUES');
    const tuples: Value[][] = [];
    do {
      this.expectOp('(');
      const tuple = [this.literal()];
      while (this.acceptOp(',')) tuple.push(this.literal());
      this.expectOp(')');
      tuples.push(tuple);
    } while (this.acceptOp(','));
    this.expectEnd();
    return { type: 'insert', conflict, table, cols, tuples };
  }

  private update(): Stmt {
    this.expectKw('UPDATE');
    const table = this.tableName();
    this.expectKw('SET');
    const sets: [string, Value][] = [];
    do {
      const col = this.identifier();
      this.expectOp('=');
      const value = this.literal();
      const nxt = this.peek();
      if (nxt && !(nxt.kind === 'op' && nxt.text === ',') && !this.isKw('WHERE')) {
        throw this.syntaxError(nxt, 'SET supports only col = literal');
      }
      sets.push([col, value]);
    } while (this.acceptOp(','));
    const where = this.where();
    this.expectEnd();
    return { type: 'update', table, sets, where };
  }

  private del(): Stmt {
    this.expectKw('DELETE');
    this.expectKw('FROM');
    const table = this.tableName();
    const where = this.where();
    this.expectEnd();
    return { type: 'delete', table, where };
  }
}

// ---------------------------------------------------------------------------------------------
// The three configuration layers
// ---------------------------------------------------------------------------------------------

const clone = (rows: Row[]): Row[] => rows.map((r) => ({ ...r }));
const emptyTables = (): Tables => ({ mysql_servers: [], mysql_replication_hostgroups: [] });
const cloneTables = (t: Tables): Tables => ({
  mysql_servers: clone(t.mysql_servers),
  mysql_replication_hostgroups: clone(t.mysql_replication_hostgroups),
});

const SERVER_PK = MYSQL_SERVERS.unique[0] as string[];
const STATE_FORMAT = 'proxysql-emulator-disk-v1';

function compareValues(a: Value, b: Value): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1; // SQLite: numbers sort before text
  if (typeof b === 'number') return 1;
  return a < b ? -1 : 1; // BINARY collation
}

const byServerPk = (a: Row, b: Row) =>
  compareValues(a.hostgroup_id ?? null, b.hostgroup_id ?? null) ||
  compareValues(a.hostname ?? null, b.hostname ?? null) ||
  compareValues(a.port ?? null, b.port ?? null);

/** Validate arbitrary rows (seed file / state file) through the same INSERT path as SQL. */
function rowsFromJson(table: TableDef, rows: unknown, source: string): Row[] {
  if (!Array.isArray(rows)) throw new Error(`${source}: ${table.name} must be an array of row objects`);
  let out: Row[] = [];
  for (const [idx, r] of rows.entries()) {
    if (!r || typeof r !== 'object' || Array.isArray(r)) throw new Error(`${source}: ${table.name}[${idx}] is not an object`);
    const entries = Object.entries(r as Record<string, unknown>);
    for (const [k, v] of entries) {
      if (v !== null && typeof v !== 'string' && typeof v !== 'number') {
        throw new Error(`${source}: ${table.name}[${idx}].${k} must be a string, number or null`);
      }
    }
    try {
      out = insertRows(
        table,
        out,
        entries.map(([k]) => k.toLowerCase()),
        [entries.map(([, v]) => v as Value)],
        'ABORT',
      ).rows;
    } catch (err) {
      throw new Error(`${source}: ${table.name}[${idx}]: ${(err as Error).message}`);
    }
  }
  return out;
}

export class ConfigLayers {
  memory: Tables = emptyTables();
  disk: Tables = emptyTables();
  /**
   * The runtime hostgroup manager's server list. Like ProxySQL's MyHGM, it can hold servers that were
   * removed from the configuration (kept as OFFLINE_HARD until purged).
   */
  private runtimeServers: Row[] = [];
  private runtimeReplicationHostgroups: Row[] = [];

  constructor(private readonly stateFile: string) {}

  /** ProxySQL startup with an existing database: DISK -> MEMORY -> RUNTIME. */
  static open(stateFile: string, seedFile?: string): ConfigLayers {
    const layers = new ConfigLayers(stateFile);
    if (fs.existsSync(stateFile)) {
      const parsed = JSON.parse(fs.readFileSync(stateFile, 'utf8')) as Record<string, unknown>;
      if (parsed.format !== STATE_FORMAT) throw new Error(`${stateFile}: not a ${STATE_FORMAT} state file`);
      layers.disk = {
        mysql_servers: rowsFromJson(MYSQL_SERVERS, parsed.mysql_servers, stateFile),
        mysql_replication_hostgroups: rowsFromJson(MYSQL_REPLICATION_HOSTGROUPS, parsed.mysql_replication_hostgroups, stateFile),
      };
    } else {
      // First start: like ProxySQL reading its config file into a fresh database (and saving it).
      let seed: unknown = [];
      if (seedFile) seed = JSON.parse(fs.readFileSync(seedFile, 'utf8'));
      const obj = (Array.isArray(seed) ? { mysql_servers: seed } : seed) as Record<string, unknown>;
      layers.disk = {
        mysql_servers: rowsFromJson(MYSQL_SERVERS, obj.mysql_servers ?? [], seedFile ?? 'seed'),
        mysql_replication_hostgroups: rowsFromJson(MYSQL_REPLICATION_HOSTGROUPS, obj.mysql_replication_hostgroups ?? [], seedFile ?? 'seed'),
      };
      layers.persistDisk();
    }
    layers.memory = cloneTables(layers.disk);
    layers.loadToRuntime();
    return layers;
  }

  persistDisk(): void {
    const dir = path.dirname(path.resolve(this.stateFile));
    fs.mkdirSync(dir, { recursive: true });
    const tmp = `${this.stateFile}.tmp-${process.pid}`;
    const body = JSON.stringify({ format: STATE_FORMAT, saved_at: new Date().toISOString(), ...this.disk }, null, 2);
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, `${body}\n`);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, this.stateFile);
  }

  /** ProxySQL's purge_mysql_servers_table(): drop OFFLINE_HARD servers that have no connections (here: all). */
  private purge(): void {
    this.runtimeServers = this.runtimeServers.filter((r) => r.status !== 'OFFLINE_HARD');
  }

  /** LOAD MYSQL SERVERS TO RUNTIME (MySQL_HostGroups_Manager::commit()). */
  loadToRuntime(): void {
    this.purge();
    const incoming = this.memory.mysql_servers;
    const incomingKeys = new Set(incoming.map((r) => pkKey(SERVER_PK, r)));
    const next: Row[] = [];
    for (const r of this.runtimeServers) {
      // Servers missing from the new configuration are set OFFLINE_HARD (purged on the next dump/commit).
      if (!incomingKeys.has(pkKey(SERVER_PK, r))) next.push({ ...r, status: 'OFFLINE_HARD' });
    }
    for (const r of incoming) next.push({ ...r, status: String(r.status).toUpperCase() });
    this.runtimeServers = next;
    this.runtimeReplicationHostgroups = clone(this.memory.mysql_replication_hostgroups);
  }

  /** What `runtime_mysql_servers` shows: MyHGM->dump_table_mysql("mysql_servers") purges first. */
  dumpRuntime(): Tables {
    this.purge();
    return {
      mysql_servers: clone(this.runtimeServers).sort(byServerPk),
      mysql_replication_hostgroups: clone(this.runtimeReplicationHostgroups),
    };
  }

  /** SAVE MYSQL SERVERS TO MEMORY / FROM RUNTIME. */
  saveRuntimeToMemory(): void {
    this.memory = this.dumpRuntime();
  }
  /** SAVE MYSQL SERVERS TO DISK / FROM MEMORY. */
  saveMemoryToDisk(): void {
    this.disk = cloneTables(this.memory);
    this.persistDisk();
  }
  /** LOAD MYSQL SERVERS TO MEMORY / FROM DISK. */
  loadDiskToMemory(): void {
    this.memory = cloneTables(this.disk);
  }
}

// ---------------------------------------------------------------------------------------------
// Statement execution
// ---------------------------------------------------------------------------------------------

export type ExecResult = { kind: 'ok'; affectedRows: number } | { kind: 'rows'; table: string; columns: string[]; rows: Value[][] };

interface TableRef {
  def: TableDef;
  layer: Layer;
}

const LAYER_COMMANDS: Record<string, 'mem2run' | 'mem2disk' | 'run2mem' | 'disk2mem'> = {
  // ProxySQL wiki, "MySQL Server Configuration": the documented aliases
  'LOAD MYSQL SERVERS TO RUNTIME': 'mem2run',
  'LOAD MYSQL SERVERS TO RUN': 'mem2run',
  'LOAD MYSQL SERVERS FROM MEMORY': 'mem2run',
  'LOAD MYSQL SERVERS FROM MEM': 'mem2run',
  'SAVE MYSQL SERVERS TO DISK': 'mem2disk',
  'SAVE MYSQL SERVERS FROM MEMORY': 'mem2disk',
  'SAVE MYSQL SERVERS FROM MEM': 'mem2disk',
  'SAVE MYSQL SERVERS TO MEMORY': 'run2mem',
  'SAVE MYSQL SERVERS TO MEM': 'run2mem',
  'SAVE MYSQL SERVERS FROM RUNTIME': 'run2mem',
  'SAVE MYSQL SERVERS FROM RUN': 'run2mem',
  'LOAD MYSQL SERVERS TO MEMORY': 'disk2mem',
  'LOAD MYSQL SERVERS TO MEM': 'disk2mem',
  'LOAD MYSQL SERVERS FROM DISK': 'disk2mem',
};

/**
 * Test-only fault injection. `ignore-load`: LOAD MYSQL SERVERS TO RUNTIME answers OK but changes
 * nothing, as if a ProxySQL Cluster peer had immediately synced the old configuration back. Used to
 * prove that callers verify runtime instead of trusting the OK packet. Never set in normal use.
 */
export type Fault = 'ignore-load';

export class AdminEngine {
  constructor(
    readonly layers: ConfigLayers,
    private readonly fault?: Fault,
  ) {}

  execute(sql: string): ExecResult {
    const toks = tokenize(sql);
    while (toks.length && toks[toks.length - 1]?.kind === 'op' && toks[toks.length - 1]?.text === ';') toks.pop();
    if (toks.some((t) => t.kind === 'op' && t.text === ';')) throw unsupported('multiple statements in one query');
    if (!toks.length) throw adminError('empty query');

    const head = (toks[0] as Token).text.toUpperCase();
    if (head === 'LOAD' || head === 'SAVE') return this.layerCommand(toks);

    const stmt = new Parser(sql, toks).statement();
    switch (stmt.type) {
      case 'select-const':
        return { kind: 'rows', table: '', columns: stmt.items.map((i) => i.label), rows: [stmt.items.map((i) => i.value)] };
      case 'select':
        return this.select(stmt);
      case 'insert': {
        const ref = this.writable(stmt.table);
        const { rows, affected } = insertRows(ref.def, this.tableRows(ref), stmt.cols, stmt.tuples, stmt.conflict);
        this.store(ref, rows);
        return { kind: 'ok', affectedRows: affected };
      }
      case 'update':
        return this.update(stmt.table, stmt.sets, stmt.where);
      case 'delete': {
        const ref = this.writable(stmt.table);
        const current = this.tableRows(ref);
        const match = this.matcher(ref.def, stmt.where);
        const kept = current.filter((r) => !match(r));
        this.store(ref, kept);
        return { kind: 'ok', affectedRows: current.length - kept.length };
      }
    }
  }

  private layerCommand(toks: Token[]): ExecResult {
    if (!toks.every((t) => t.kind === 'ident')) throw adminError(`near "${toks.find((t) => t.kind !== 'ident')?.text}": syntax error`);
    const cmd = toks.map((t) => t.text.toUpperCase()).join(' ');
    const action = LAYER_COMMANDS[cmd];
    if (!action) {
      if (/^(LOAD|SAVE) MYSQL SERVERS /.test(cmd)) throw unsupported(`"${cmd}"`);
      throw unsupported(`"${cmd}" (only the LOAD/SAVE MYSQL SERVERS commands are emulated)`);
    }
    const l = this.layers;
    if (action === 'mem2run') {
      if (this.fault !== 'ignore-load') l.loadToRuntime();
    } else if (action === 'mem2disk') l.saveMemoryToDisk();
    else if (action === 'run2mem') l.saveRuntimeToMemory();
    else l.loadDiskToMemory();
    return { kind: 'ok', affectedRows: 0 };
  }

  private resolve(name: string): TableRef {
    const m = /^(?:(main|disk)\.)?(runtime_)?(mysql_servers|mysql_replication_hostgroups)$/.exec(name);
    if (!m || (m[1] === 'disk' && m[2])) {
      throw adminError(
        `no such table: ${name} [the ProxySQL admin emulator implements only mysql_servers and mysql_replication_hostgroups (main, runtime_ and disk.)]`,
      );
    }
    const layer: Layer = m[2] ? 'runtime' : m[1] === 'disk' ? 'disk' : 'memory';
    return { def: TABLE_DEFS[m[3] as TableName], layer };
  }

  private writable(name: string): TableRef {
    const ref = this.resolve(name);
    if (ref.layer === 'runtime') {
      throw unsupported(
        `writing to ${name}: runtime_ tables are regenerated from the runtime on every read; edit ${ref.def.name} and LOAD MYSQL SERVERS TO RUNTIME`,
      );
    }
    return ref;
  }

  private tableRows(ref: TableRef): Row[] {
    if (ref.layer === 'runtime') return this.layers.dumpRuntime()[ref.def.name];
    return clone(this.layers[ref.layer][ref.def.name]);
  }

  private store(ref: TableRef, rows: Row[]): void {
    if (ref.layer === 'runtime') throw new Error('unreachable: runtime is read-only');
    this.layers[ref.layer][ref.def.name] = rows;
    if (ref.layer === 'disk') this.layers.persistDisk(); // disk.* is the on-disk database itself
  }

  private column(def: TableDef, name: string): Column {
    const col = def.columns.find((c) => c.name === name);
    if (!col) throw adminError(`no such column: ${name}`);
    return col;
  }

  /** SQLite comparison with the column's affinity applied to the literal. */
  private matcher(def: TableDef, where: Pred[]): (r: Row) => boolean {
    const tests = where.map((p) => {
      const col = this.column(def, p.col);
      const norm = (v: Value): Value => {
        if (v === null) return null;
        if (col.int && typeof v === 'string' && /^\s*[-+]?\d+(\.\d*)?\s*$/.test(v)) return Number(v);
        if (!col.int && typeof v === 'number') return String(v);
        return v;
      };
      const vals = p.values.map(norm);
      return (r: Row) => {
        const cell = r[col.name] ?? null;
        switch (p.op) {
          case 'IS NULL':
            return cell === null;
          case 'IS NOT NULL':
            return cell !== null;
          case '=':
            return cell !== null && vals[0] !== null && cell === vals[0];
          case '<>':
            return cell !== null && vals[0] !== null && cell !== vals[0];
          case 'IN':
            return cell !== null && vals.some((v) => v !== null && v === cell);
        }
      };
    });
    return (r) => tests.every((t) => t(r));
  }

  private select(stmt: Extract<Stmt, { type: 'select' }>): ExecResult {
    const ref = this.resolve(stmt.table);
    let rows = this.tableRows(ref).filter(this.matcher(ref.def, stmt.where));
    if (stmt.order.length) {
      const cols = stmt.order.map((o) => ({ col: this.column(ref.def, o.col), desc: o.desc }));
      rows = rows
        .map((r, idx) => ({ r, idx }))
        .sort((a, b) => {
          for (const { col, desc } of cols) {
            const c = compareValues(a.r[col.name] ?? null, b.r[col.name] ?? null);
            if (c) return desc ? -c : c;
          }
          return a.idx - b.idx;
        })
        .map((x) => x.r);
    }
    if (stmt.limit !== undefined) rows = rows.slice(0, Math.max(0, stmt.limit));
    if (stmt.items.length === 1 && stmt.items[0]?.kind === 'count') {
      return { kind: 'rows', table: '', columns: [stmt.items[0].label], rows: [[rows.length]] };
    }
    const cols = stmt.star
      ? ref.def.columns.map((c) => ({ name: c.name, label: c.name }))
      : stmt.items.map((it) => {
          if (it.kind !== 'col') throw new Error('unreachable');
          return { name: this.column(ref.def, it.col).name, label: it.label };
        });
    return {
      kind: 'rows',
      table: stmt.table.replace(/^(main|disk)\./, ''),
      columns: cols.map((c) => c.label),
      rows: rows.map((r) => cols.map((c) => r[c.name] ?? null)),
    };
  }

  private update(table: string, sets: [string, Value][], where: Pred[]): ExecResult {
    const ref = this.writable(table);
    const def = ref.def;
    for (const [col] of sets) this.column(def, col);
    const match = this.matcher(def, where);
    const current = this.tableRows(ref);
    let affected = 0;
    const next = current.map((r) => {
      if (!match(r)) return r;
      affected++;
      const row = { ...r };
      for (const [name, v] of sets) row[name] = coerce(def, this.column(def, name), v);
      checkRow(def, row, 'ABORT');
      return row;
    });
    for (const u of def.unique) {
      const seen = new Set<string>();
      for (const r of next) {
        const key = pkKey(u, r);
        if (seen.has(key)) throw uniqueViolation(def, u);
        seen.add(key);
      }
    }
    this.store(ref, next);
    return { kind: 'ok', affectedRows: affected };
  }
}

// ---------------------------------------------------------------------------------------------
// MySQL wire protocol (mysql2 server API) with mysql_native_password authentication
// ---------------------------------------------------------------------------------------------

// mysql2 does not export its protocol internals through package.json "exports"; load them by path.
const localRequire = createRequire(typeof __filename === 'string' ? __filename : path.join(process.cwd(), 'noop.js'));
const mysql2Lib = path.join(path.dirname(localRequire.resolve('mysql2')), 'lib');
const ServerHandshake: any = localRequire(path.join(mysql2Lib, 'commands/server_handshake.js'));
const Packets: any = localRequire(path.join(mysql2Lib, 'packets/index.js'));
const ClientFlags: Record<string, number> = localRequire(path.join(mysql2Lib, 'constants/client.js'));

const SERVER_CAPABILITIES =
  (ClientFlags.LONG_PASSWORD as number) |
  (ClientFlags.FOUND_ROWS as number) |
  (ClientFlags.LONG_FLAG as number) |
  (ClientFlags.CONNECT_WITH_DB as number) |
  (ClientFlags.PROTOCOL_41 as number) |
  (ClientFlags.TRANSACTIONS as number) |
  (ClientFlags.SECURE_CONNECTION as number) |
  (ClientFlags.PLUGIN_AUTH as number) |
  (ClientFlags.PLUGIN_AUTH_LENENC_CLIENT_DATA as number);
const UTF8_GENERAL_CI = 33;
const MYSQL_TYPE_VAR_STRING = 253;
const SERVER_STATUS_AUTOCOMMIT = 2;

const sha1 = (...parts: Buffer[]) => {
  const h = crypto.createHash('sha1');
  for (const p of parts) h.update(p);
  return h.digest();
};

/**
 * mysql_native_password: client sends SHA1(pw) XOR SHA1(scramble + SHA1(SHA1(pw))).
 * We hold the clear-text password (as ProxySQL does for admin-admin_credentials), so compute the
 * expected token from the scramble we sent and compare in constant time.
 */
export function nativePasswordMatches(password: string, scramble: Buffer, token: Buffer): boolean {
  if (password === '') return token.length === 0;
  if (token.length !== 20) return false;
  const stage1 = sha1(Buffer.from(password, 'utf8'));
  const mask = sha1(scramble, sha1(stage1));
  const expected = Buffer.alloc(20);
  for (let i = 0; i < 20; i++) expected[i] = (stage1[i] as number) ^ (mask[i] as number);
  return crypto.timingSafeEqual(expected, token);
}

function errorPacket(err: AdminError): any {
  const msg = Buffer.from(err.message, 'utf8');
  const len = 4 + 1 + 2 + 1 + 5 + msg.length;
  const buf = Buffer.alloc(len);
  buf.writeUInt8(0xff, 4);
  buf.writeUInt16LE(err.errno, 5);
  buf.write('#', 7, 'ascii');
  buf.write(err.sqlState.padEnd(5, '0').slice(0, 5), 8, 'ascii');
  msg.copy(buf, 13);
  return new Packets.Packet(0, buf, 0, len);
}

export interface EmulatorOptions {
  host: string;
  port: number;
  user: string;
  password: string;
  stateFile: string;
  seedFile?: string;
  fault?: Fault;
  log?: (msg: string) => void;
}

export interface RunningEmulator {
  port: number;
  close(): Promise<void>;
}

export async function startEmulator(opts: EmulatorOptions): Promise<RunningEmulator> {
  const log = opts.log ?? (() => undefined);
  const engine = new AdminEngine(ConfigLayers.open(opts.stateFile, opts.seedFile), opts.fault);
  if (opts.fault) log(`FAULT INJECTION ACTIVE: ${opts.fault}`);
  const server: any = (mysql.createServer as (handler?: unknown) => unknown)();
  const open = new Set<any>();
  let nextConnectionId = 1;

  const writeError = (conn: any, err: AdminError) => {
    conn.writePacket(errorPacket(err));
    conn._resetSequenceId(); // next command starts a new sequence
  };

  const reply = (conn: any, sql: string) => {
    let result: ExecResult;
    try {
      result = engine.execute(sql);
    } catch (e) {
      const err = e instanceof AdminError ? e : adminError(`internal emulator error: ${(e as Error).message}`);
      log(`query failed: ${sql} -> ${err.message}`);
      writeError(conn, err);
      return;
    }
    if (result.kind === 'ok') {
      conn.writeOk({ affectedRows: result.affectedRows, serverStatus: SERVER_STATUS_AUTOCOMMIT });
    } else {
      const table = result.table;
      conn.writeColumns(
        result.columns.map((name) => ({
          catalog: 'def',
          schema: 'main',
          table,
          orgTable: table,
          name,
          orgName: name,
          characterSet: UTF8_GENERAL_CI,
          columnLength: 1024,
          columnType: MYSQL_TYPE_VAR_STRING, // ProxySQL's admin sends every column as a string
          flags: 0,
          decimals: 0,
        })),
      );
      for (const row of result.rows) conn.writeTextRow(row.map((v) => (v === null ? null : String(v))));
      conn.writeEof(0, SERVER_STATUS_AUTOCOMMIT);
    }
    conn._resetSequenceId();
  };

  server.on('connection', (conn: any) => {
    open.add(conn);
    // A result set is many small writes: with Nagle's algorithm each answer waited ~40 ms for the client's
    // delayed ACK (measured: 41 ms per query; 2-5 ms with TCP_NODELAY, which MySQL servers set as well).
    conn.stream.setNoDelay?.(true);
    conn.on('error', (e: Error & { code?: string }) => {
      if (e.code !== 'PROTOCOL_CONNECTION_LOST') log(`connection error: ${e.message}`);
    });
    conn.stream.on('close', () => open.delete(conn));

    const args = {
      protocolVersion: 10,
      serverVersion: EMULATOR_VERSION,
      connectionId: nextConnectionId++,
      statusFlags: SERVER_STATUS_AUTOCOMMIT,
      characterSet: UTF8_GENERAL_CI,
      capabilityFlags: SERVER_CAPABILITIES,
    };
    conn.serverConfig = { ...args, encoding: 'utf8' };
    const handshake = new ServerHandshake(args);
    const baseStart = handshake.start;
    handshake.start = function (this: any, packet: any, connection: any) {
      baseStart.call(this, packet, connection);
      return readClientReply;
    };
    function readClientReply(this: any, packet: any, connection: any) {
      const hello = Packets.HandshakeResponse.fromPacket(packet, SERVER_CAPABILITIES);
      connection.clientHelloReply = hello;
      const token: Buffer = Buffer.isBuffer(hello.authToken) ? hello.authToken : Buffer.from(hello.authToken ?? '', 'binary');
      const scramble = Buffer.concat([this.serverHello.authPluginData1, this.serverHello.authPluginData2]);
      const plugin = hello.authPluginName || 'mysql_native_password';
      const address = connection.stream.remoteAddress ?? 'unknown';
      let failure: AdminError | undefined;
      if (plugin !== 'mysql_native_password') {
        failure = new AdminError(
          `ProxySQL Error: authentication plugin ${plugin} is not supported by the emulator (use mysql_native_password)`,
          1045,
          '28000',
        );
      } else if (hello.user !== opts.user || !nativePasswordMatches(opts.password, scramble, token)) {
        failure = new AdminError(
          `ProxySQL Error: Access denied for user '${hello.user}'@'${address}' (using password: ${token.length ? 'YES' : 'NO'})`,
          1045,
          '28000',
        );
      }
      if (failure) {
        log(`authentication failed for user ${hello.user} from ${address}`);
        connection.writePacket(errorPacket(failure));
        connection.close();
        return null;
      }
      connection.writeOk({ serverStatus: SERVER_STATUS_AUTOCOMMIT });
      connection._resetSequenceId();
      return ServerHandshake.prototype.dispatchCommands;
    }
    conn.addCommand(handshake);

    conn.on('query', (sql: string) => reply(conn, sql));
    // mysql2's dispatcher diverts text queries starting with SET/PREPARE here, as well as COM_STMT_PREPARE.
    conn.on('stmt_prepare', (sql: string) => {
      if (/^\s*(SET|PREPARE)\b/i.test(sql)) reply(conn, sql);
      else writeError(conn, unsupported('prepared statements (COM_STMT_PREPARE)'));
    });
    conn.on('stmt_execute', () => writeError(conn, unsupported('prepared statements (COM_STMT_EXECUTE)')));
    conn.on('ping', () => {
      conn.writeOk({ serverStatus: SERVER_STATUS_AUTOCOMMIT });
      conn._resetSequenceId();
    });
    conn.on('init_db', () => {
      conn.writeOk({ serverStatus: SERVER_STATUS_AUTOCOMMIT });
      conn._resetSequenceId();
    });
    conn.on('quit', () => {
      conn._closing = true;
      conn.stream.end();
    });
    conn.on('packet', (_packet: any, knownCommand: boolean, commandCode: number) => {
      if (!knownCommand) writeError(conn, unsupported(`protocol command 0x${commandCode.toString(16)}`));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server._server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server._server.off('error', reject);
      resolve();
    });
  });
  const address = server._server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;

  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const conn of open) conn.stream.destroy();
        server.close(() => resolve());
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------------------------

function parseArgs(argv: string[]): EmulatorOptions {
  const get = (name: string): string | undefined => {
    const idx = argv.indexOf(`--${name}`);
    if (idx < 0) return undefined;
    const v = argv[idx + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`--${name} needs a value`);
    return v;
  };
  const known = new Set(['--port', '--user', '--password', '--state', '--host', '--seed', '--fault']);
  for (let i = 0; i < argv.length; i += 2) {
    if (!known.has(argv[i] as string)) throw new Error(`unknown argument ${argv[i]}`);
  }
  const port = Number(get('port'));
  const user = get('user');
  const password = get('password');
  const stateFile = get('state');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port must be an integer 0..65535');
  if (!user) throw new Error('--user is required');
  if (password === undefined) throw new Error('--password is required');
  if (!stateFile) throw new Error('--state is required');
  const fault = get('fault');
  if (fault !== undefined && fault !== 'ignore-load') throw new Error('--fault accepts only ignore-load');
  return { port, user, password, stateFile, host: get('host') ?? '127.0.0.1', seedFile: get('seed'), fault };
}

async function main(): Promise<void> {
  let opts: EmulatorOptions;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(
      `${(err as Error).message}\nusage: proxysql-emulator.ts --port P --user U --password PW --state FILE [--host 127.0.0.1] [--seed FILE.json] [--fault ignore-load]\n`,
    );
    process.exit(2);
  }
  const emu = await startEmulator({ ...opts, log: (m) => process.stderr.write(`[proxysql-emulator] ${m}\n`) });
  process.stdout.write(`${JSON.stringify({ ready: true, port: emu.port })}\n`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`[proxysql-emulator] ${signal}: shutting down\n`);
    emu.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`[proxysql-emulator] fatal: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  });
}
