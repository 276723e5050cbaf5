// One ProxySQL admin emulator per site (ProxySQL itself is not installable here; see docs/proxysql-emulator.md).
// Each knows every site's database: the primary in the writer hostgroup, every server in the reader one.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadedConfig } from '../config/load';
import type { Site } from '../config/schema';
import { resolveSecret } from '../activities/secrets';
import type { LabDirs } from './paths';
import { ROOT } from './paths';
import { alive, portOpen, readPid, startDaemon, tail, waitFor } from './procs';
import { placeOf } from './network';

export const proxysqlName = (site: Site) => `proxysql-${site.id}`;

export async function startProxysql(loaded: LoadedConfig, dirs: LabDirs, site: Site): Promise<'started' | 'running'> {
  const p = site.proxysql!;
  const name = proxysqlName(site);
  if (alive(readPid(dirs.pids, name))) return 'running';
  const { netns } = placeOf(loaded, site.id);
  if (await portOpen(p.port, p.host))
    throw new Error(`port ${p.port} for ${name} is busy: something else listens there (change sites[].proxysql.port in ${loaded.file})`);
  const primary = loaded.config.sites.find((s) => s.role === 'primary')!;
  const seed = join(dirs.state, `${name}-seed.json`);
  writeFileSync(
    seed,
    JSON.stringify({
      mysql_servers: [
        { hostgroup_id: p.writerHostgroup, hostname: primary.mysql.host, port: primary.mysql.port, comment: `${primary.id} primary` },
        ...loaded.config.sites.map((s) => ({ hostgroup_id: p.readerHostgroup, hostname: s.mysql.host, port: s.mysql.port, comment: `${s.id}` })),
      ],
      mysql_replication_hostgroups: [
        { writer_hostgroup: p.writerHostgroup, reader_hostgroup: p.readerHostgroup, check_type: 'read_only', comment: loaded.config.name },
      ],
    }),
  );
  startDaemon({
    name,
    command: process.execPath,
    cwd: ROOT,
    pidsDir: dirs.pids,
    logsDir: dirs.logs,
    port: p.port,
    netns,
    args: [
      '--import',
      'tsx',
      join(ROOT, 'lab/proxysql-emulator.ts'),
      '--host',
      p.host,
      '--port',
      String(p.port),
      '--user',
      p.user,
      '--password',
      resolveSecret(p.password, loaded.baseDir),
      '--state',
      join(dirs.data, `${name}.json`),
      '--seed',
      seed,
    ],
  });
  const rec = readPid(dirs.pids, name);
  const log = join(dirs.logs, `${name}.log`);
  await waitFor(
    `${name} on port ${p.port}`,
    async () => {
      if (!alive(rec)) throw new Error(`${name} exited during start-up (port ${p.port}, sites[].proxysql.port in ${loaded.file}):\n${tail(log)}`);
      return portOpen(p.port, p.host);
    },
    30_000,
    log,
  );
  return 'started';
}
