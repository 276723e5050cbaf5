// The least privileges the runbook user needs on MySQL, and a check of SHOW GRANTS against them. A runbook
// that lacks one fails at preflight, naming it, not half-way through a failover (orchestrator, given its
// documented grants, "promoted" a replica that stayed read-only).

export interface RequiredGrant {
  privilege: string;
  /** `*.*` or `db.table`. */
  on: string;
  why: string;
}

export const MYSQL_RUNBOOK_GRANTS: readonly RequiredGrant[] = [
  { privilege: 'SYSTEM_VARIABLES_ADMIN', on: '*.*', why: 'SET GLOBAL super_read_only / read_only (fence, promote) and gtid_purged (re-seed)' },
  { privilege: 'CONNECTION_ADMIN', on: '*.*', why: "KILL other users' sessions at the fence" },
  { privilege: 'PROCESS', on: '*.*', why: 'see every session in the processlist, to kill them at the fence' },
  { privilege: 'REPLICATION CLIENT', on: '*.*', why: 'SHOW REPLICA STATUS, SHOW BINARY LOGS' },
  { privilege: 'REPLICATION SLAVE', on: '*.*', why: 'SHOW BINLOG EVENTS and mysqlbinlog --read-from-remote-server (errant export)' },
  { privilege: 'REPLICATION_SLAVE_ADMIN', on: '*.*', why: 'STOP / START / RESET REPLICA, CHANGE REPLICATION SOURCE (promote, reprotect)' },
  { privilege: 'SESSION_VARIABLES_ADMIN', on: '*.*', why: 'SET SESSION sql_log_bin = 0 while a re-seed loads' },
  { privilege: 'RELOAD', on: '*.*', why: 'RESET BINARY LOGS AND GTIDS before a re-seed; FLUSH in mysqldump' },
  { privilege: 'BACKUP_ADMIN', on: '*.*', why: 'donor of a clone re-seed; LOCK INSTANCE FOR BACKUP in mysqldump' },
  { privilege: 'CLONE_ADMIN', on: '*.*', why: 'recipient of a clone re-seed (CLONE INSTANCE FROM …)' },
  // A re-seed by dump drops and recreates every application schema on the returning site.
  ...[
    'SELECT',
    'INSERT',
    'UPDATE',
    'DELETE',
    'CREATE',
    'DROP',
    'ALTER',
    'INDEX',
    'REFERENCES',
    'CREATE VIEW',
    'SHOW VIEW',
    'TRIGGER',
    'EVENT',
    'CREATE ROUTINE',
    'ALTER ROUTINE',
    'EXECUTE',
    'LOCK TABLES',
  ].map((privilege) => ({ privilege, on: '*.*', why: 're-seed by dump (mysqldump of the primary, loaded into the returning site)' })),
];

/** Static privileges that ALL PRIVILEGES stands for in SHOW GRANTS; dynamic ones are always listed by name. */
const STATIC = new Set([
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
  'CREATE',
  'DROP',
  'RELOAD',
  'SHUTDOWN',
  'PROCESS',
  'FILE',
  'REFERENCES',
  'INDEX',
  'ALTER',
  'SHOW DATABASES',
  'SUPER',
  'CREATE TEMPORARY TABLES',
  'LOCK TABLES',
  'EXECUTE',
  'REPLICATION SLAVE',
  'REPLICATION CLIENT',
  'CREATE VIEW',
  'SHOW VIEW',
  'CREATE ROUTINE',
  'ALTER ROUTINE',
  'CREATE USER',
  'EVENT',
  'TRIGGER',
  'CREATE TABLESPACE',
  'CREATE ROLE',
  'DROP ROLE',
]);

/** Privileges per object (`*.*`, `trading.*`, …) from SHOW GRANTS lines. Backquotes are dropped. */
export function parseGrants(lines: string[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const line of lines) {
    const m = /^GRANT (.+?) ON (\S+) TO /i.exec(line.trim());
    if (!m) continue;
    const on = m[2]!.replace(/`/g, '');
    const set = out.get(on) ?? new Set<string>();
    for (const raw of m[1]!.split(',')) {
      const p = raw.trim().toUpperCase();
      if (p === 'ALL' || p === 'ALL PRIVILEGES') for (const s of STATIC) set.add(s);
      else set.add(p);
    }
    out.set(on, set);
  }
  return out;
}

/** The required grants SHOW GRANTS does not give; a grant on `*.*` covers every schema. */
export function missingGrants(lines: string[], required: readonly RequiredGrant[] = MYSQL_RUNBOOK_GRANTS): RequiredGrant[] {
  const have = parseGrants(lines);
  const holds = (g: RequiredGrant) => {
    if (have.get('*.*')?.has(g.privilege)) return true;
    const [db] = g.on.split('.');
    return Boolean(have.get(`${db}.*`)?.has(g.privilege) || have.get(g.on)?.has(g.privilege));
  };
  return required.filter((g) => !holds(g));
}

/** One GRANT statement per object, for the docs and the lab. */
export function grantStatements(user: string, required: readonly RequiredGrant[] = MYSQL_RUNBOOK_GRANTS): string[] {
  const byObject = new Map<string, string[]>();
  for (const g of required) byObject.set(g.on, [...(byObject.get(g.on) ?? []), g.privilege]);
  return [...byObject].map(([on, privs]) => `GRANT ${privs.join(', ')} ON ${on} TO ${user}`);
}
