// One ProxySQL admin emulator per site (ProxySQL itself is not installable here; see docs/proxysql-emulator.md).
// Each knows every site's database: the primary in the writer hostgroup, every server in the reader one; and
// so for each group with servers of its own, in the group's hostgroups.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { siteInGroup, type LoadedConfig } from '../config/load';
import type { Site } from '../config/schema';
import { resolveSecret } from '../activities/secrets';
import type { LabDirs } from './paths';
import { ROOT } from './paths';
import { alive, portOpen, readPid, startDaemon, tail, waitFor } from './procs';
import { placeOf } from './network';

/** `group`: a group with a ProxySQL of its own in the site (its `proxysql.port`). */
export const proxysqlName = (site: Site, group?: string) => `proxysql-${site.id}${group ? `-${group}` : ''}`;

/** The groups whose ProxySQL in `site` is not the site's own: one emulator each. */
export function ownProxies(loaded: LoadedConfig): Array<{ site: Site; group: string }> {
  return loaded.config.groups
    .filter((g) => g.databases && g.proxysql?.port)
    .flatMap((g) =>
      loaded.config.sites.filter((s) => g.databases![s.id] && s.proxysql).map((s) => ({ site: siteInGroup(loaded.config, s, g.id), group: g.id })),
    );
}

/** `site` as the group sees it when `group` has a ProxySQL of its own there. */
export async function startProxysql(loaded: LoadedConfig, dirs: LabDirs, site: Site, group?: string): Promise<'started' | 'running'> {
  const p = site.proxysql!;
  const name = proxysqlName(site, group);
  if (alive(readPid(dirs.pids, name))) return 'running';
  const { netns } = placeOf(loaded, site.id);
  if (await portOpen(p.port, p.host))
    throw new Error(`port ${p.port} for ${name} is busy: something else listens there (change sites[].proxysql.port in ${loaded.file})`);
  const primary = loaded.config.sites.find((s) => s.role === 'primary')!;
  // Every group this ProxySQL routes (the sites' own servers, groups with servers of their own), in its hostgroups.
  const real = loaded.config.sites.find((s) => s.id === site.id)!;
  const here = (g: string | undefined) => {
    const q = siteInGroup(loaded.config, real, g).proxysql;
    return q?.host === p.host && q.port === p.port;
  };
  const ownGroups = loaded.config.groups.filter((g) => g.databases?.[site.id] && here(g.id)).map((g) => g.id);
  const routed = [...(here(undefined) ? [undefined] : []), ...ownGroups];
  const seed = join(dirs.state, `${name}-seed.json`);
  writeFileSync(
    seed,
    JSON.stringify({
      mysql_servers: routed.flatMap((group) => {
        const hg = siteInGroup(loaded.config, real, group).proxysql!;
        const at = (s: Site) => siteInGroup(loaded.config, s, group).mysql;
        const members = group
          ? loaded.config.sites.filter((s) => loaded.config.groups.find((g) => g.id === group)!.sites.includes(s.id))
          : loaded.config.sites;
        return [
          {
            hostgroup_id: hg.writerHostgroup,
            hostname: at(primary).host,
            port: at(primary).port,
            comment: `${primary.id} primary${group ? ` of ${group}` : ''}`,
          },
          ...members.map((s) => ({
            hostgroup_id: hg.readerHostgroup,
            hostname: at(s).host,
            port: at(s).port,
            comment: `${s.id}${group ? ` ${group}` : ''}`,
          })),
        ];
      }),
      mysql_replication_hostgroups: routed.map((group) => {
        const hg = siteInGroup(loaded.config, real, group).proxysql!;
        return {
          writer_hostgroup: hg.writerHostgroup,
          reader_hostgroup: hg.readerHostgroup,
          check_type: 'read_only',
          comment: group ?? loaded.config.name,
        };
      }),
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
