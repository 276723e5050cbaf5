// The lab's MySQL servers: MySQL 9.7 from the project's own tree (lab/mysql-tree.sh), through its own loader.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { Site } from '../config/schema';
import { grantStatements } from '../domain/grants';
import type { EngineServer, Logins } from './engine';
import { mysqlTree } from './mysql-tree';

export const mysql: EngineServer = {
  name: 'MySQL',
  client: () => join(mysqlTree().bin, 'mysql'),
  initialise(datadir) {
    execFileSync(join(mysqlTree().bin, 'mysqld'), ['--no-defaults', ...treeArgs(), `--datadir=${datadir}`, '--user=root', '--initialize-insecure'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  },
  // Under a monitor, as systemd or mysqld_safe would run it: a clone re-seed ends in a restart (exit code 16),
  // which a server without one cannot do (MYSQLD_PARENT_PID, the RESTART statement's documented contract).
  daemon: () => ({
    command: '/bin/sh',
    prefix: ['-c', MONITOR, 'mysqld-monitor', join(mysqlTree().bin, 'mysqld')],
  }),
  args: ({ serverId, host, port }) => [
    ...treeArgs(),
    '--mysqlx=OFF',
    // The clone plugin: MySQL's own way to rebuild a replica (the re-seed of a returning site).
    `--plugin-dir=${join(mysqlTree().root, 'usr', 'lib', 'mysql', 'plugin')}`,
    '--plugin-load-add=mysql_clone.so',
    // Semi-synchronous replication, both sides on every server: the runbooks move the roles with the primary.
    '--plugin-load-add=semisync_source.so',
    '--plugin-load-add=semisync_replica.so',
    `--server-id=${serverId}`,
    '--log-bin=binlog',
    '--gtid-mode=ON',
    '--enforce-gtid-consistency=ON',
    '--log-replica-updates=ON',
    '--read-only=ON',
    '--super-read-only=ON',
    `--report-host=${host}`,
    `--report-port=${port}`,
    // One applier thread, as MariaDB's default: a multi-threaded replica whose receiver stopped in the middle of a
    // transaction (the tests' `stop io` under load) makes STOP REPLICA wait 60 s for a group that never completes,
    // which a promotion after the point of no return cannot afford.
    '--replica-parallel-workers=0',
    '--innodb-buffer-pool-size=64M',
    '--innodb-redo-log-capacity=64M',
    // Sized for a lab of three servers beside Kubernetes on one small machine (MySQL 9's defaults take about
    // 300 MB each in the log buffer and the performance schema's history and digest tables).
    '--innodb-log-buffer-size=8M',
    '--performance-schema-max-table-instances=400',
    '--performance-schema-max-thread-instances=500',
    '--performance-schema-digests-size=1000',
    '--performance-schema-events-statements-history-long-size=1000',
    '--performance-schema-events-stages-history-long-size=1000',
    '--performance-schema-events-waits-history-long-size=1000',
    '--performance-schema-events-transactions-history-long-size=1000',
  ],
  // The runbook user gets exactly the grants docs/mysql-grants.md lists, not root's.
  primaryBootstrap: (m: Site['mysql'], l: Logins) => [
    `CREATE USER IF NOT EXISTS '${m.user}'@'%' IDENTIFIED BY '${l.runbook}'`,
    ...grantStatements(`'${m.user}'@'%'`),
    `CREATE USER IF NOT EXISTS '${m.replicationUser}'@'%' IDENTIFIED BY '${l.replication}'`,
    `GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '${m.replicationUser}'@'%'`,
  ],
  openPrimary: () => ['SET GLOBAL super_read_only = OFF', 'SET GLOBAL read_only = OFF'],
  // GET_SOURCE_PUBLIC_KEY: caching_sha2_password over a connection without TLS needs the server's RSA key.
  replicate: (source: Site['mysql'], replica: Site['mysql'], l: Logins) =>
    `STOP REPLICA; RESET REPLICA ALL; RESET BINARY LOGS AND GTIDS; ` +
    `CHANGE REPLICATION SOURCE TO SOURCE_HOST='${source.host}', SOURCE_PORT=${source.port}, SOURCE_USER='${replica.replicationUser}', ` +
    `SOURCE_PASSWORD='${l.replication}', SOURCE_AUTO_POSITION=1, SOURCE_CONNECT_RETRY=1, SOURCE_RETRY_COUNT=86400, GET_SOURCE_PUBLIC_KEY=1; START REPLICA`,
};

/**
 * Restarts the server when it exits with 16 (a clone or RESTART asked for it). A stop signal is passed on and
 * the monitor waits for the server's own shutdown, so `lab down` returns only once the server is gone.
 */
const MONITOR = [
  'export MYSQLD_PARENT_PID=$$',
  `trap 'kill -TERM "$child" 2>/dev/null' TERM INT`,
  'while :; do',
  '  "$@" & child=$!',
  '  wait "$child"; rc=$?',
  '  while kill -0 "$child" 2>/dev/null; do wait "$child"; rc=$?; done',
  '  [ "$rc" -eq 16 ] || exit "$rc"',
  'done',
].join('\n');

/** Where the server finds its own files inside the tree; it refuses to start without a secure-file-priv. */
function treeArgs(): string[] {
  const { root } = mysqlTree();
  return [`--basedir=${join(root, 'usr')}`, `--lc-messages-dir=${join(root, 'usr', 'share', 'mysql')}`, '--secure-file-priv='];
}
