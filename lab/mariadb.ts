// The lab's MariaDB servers (Debian's mariadbd): the second dialect.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import type { Site } from '../config/schema';
import type { EngineServer, Logins } from './engine';

/** Next to the data directory, made once. */
function tmpdirOf(datadir: string): string {
  const dir = `${datadir}.tmp`;
  mkdirSync(dir, { recursive: true });
  return dir;
}

export const mariadb: EngineServer = {
  name: 'MariaDB',
  client: () => 'mariadb',
  initialise(datadir) {
    execFileSync(
      'mariadb-install-db',
      [
        '--no-defaults',
        `--datadir=${datadir}`,
        // Its own temporary folder: servers sharing /tmp remove each other's temporary tables at start-up.
        `--tmpdir=${tmpdirOf(datadir)}`,
        '--user=root',
        '--auth-root-authentication-method=socket',
        '--skip-test-db',
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
  },
  daemon: () => ({ command: '/usr/sbin/mariadbd', prefix: [] }),
  args: ({ serverId, datadir }) => [
    `--tmpdir=${tmpdirOf(datadir)}`,
    '--log-bin=binlog',
    '--binlog-format=ROW',
    '--log-slave-updates=ON',
    '--gtid-strict-mode=ON',
    `--server-id=${serverId}`,
    '--read-only=ON',
    '--innodb-buffer-pool-size=64M',
    '--innodb-log-file-size=48M',
    '--performance-schema=OFF',
  ],
  // The runbook user has every privilege here; docs/mysql-grants.md lists the least ones for MySQL.
  primaryBootstrap: (m: Site['mysql'], l: Logins) => [
    `CREATE USER IF NOT EXISTS '${m.user}'@'%' IDENTIFIED BY '${l.runbook}'`,
    `GRANT ALL PRIVILEGES ON *.* TO '${m.user}'@'%' WITH GRANT OPTION`,
    `CREATE USER IF NOT EXISTS '${m.replicationUser}'@'%' IDENTIFIED BY '${l.replication}'`,
    `GRANT REPLICATION SLAVE, REPLICATION CLIENT, BINLOG MONITOR ON *.* TO '${m.replicationUser}'@'%'`,
  ],
  openPrimary: () => ['SET GLOBAL read_only = OFF'],
  replicate: (source: Site['mysql'], replica: Site['mysql'], l: Logins) =>
    `STOP SLAVE; RESET SLAVE ALL; SET GLOBAL gtid_slave_pos = ''; ` +
    `CHANGE MASTER TO MASTER_HOST='${source.host}', MASTER_PORT=${source.port}, MASTER_USER='${replica.replicationUser}', ` +
    `MASTER_PASSWORD='${l.replication}', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1; START SLAVE`,
};
