// A lab with many database groups: a copy of a lab config (next to it, so its relative paths hold) that asks
// for `x-lab.groups: N` and lists them, each a MariaDB per site of the first group, with its own port (the
// site's port + 1000 + 10 × n) and data directory, and its own hostgroups in the site's ProxySQL. The lab
// starts whatever servers the groups name (lab/database.ts groupServers); the product sees plain groups.
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseDocument } from 'yaml';
import { parseConfig } from '../config/load';

/** The port of the n-th group's own ProxySQL: the site's ProxySQL port + 1000 + 10 × n (the sites differ in the last digit). */
const ownProxyPort = (site: { proxysql?: { port: number } }, n: number): number => site.proxysql!.port + 1000 + 10 * n;

/** The id of the lab's n-th extra group (1-based). */
export const labGroupId = (n: number): string => `g${n}`;

export function groupsConfigFile(base: string, count: number, change?: (doc: ReturnType<typeof parseDocument>) => void): string {
  if (!Number.isInteger(count) || count < 1 || count > 64) throw new Error(`groups: a whole number from 1 to 64, not '${count}'`);
  const doc = parseDocument(readFileSync(base, 'utf8'));
  const loaded = parseConfig(doc.toString(), base);
  const first = loaded.config.groups[0]!;
  const sites = loaded.config.sites.filter((s) => first.sites.includes(s.id));
  doc.setIn(['x-lab', 'groups'], count);
  for (let n = 1; n <= count; n++) {
    doc.addIn(['groups'], {
      id: labGroupId(n),
      sites: first.sites,
      databases: Object.fromEntries(sites.map((s) => [s.id, { host: s.mysql.host, port: s.mysql.port + 1000 + 10 * n }])),
      // The last group has a ProxySQL of its own in each site, as estates that run one per cluster do.
      proxysql: {
        writerHostgroup: 100 + n,
        readerHostgroup: 300 + n,
        ...(n === count && count > 1 && { port: ownProxyPort(loaded.config.sites[0]!, n) }),
      },
    });
  }
  change?.(doc);
  const file = join(dirname(base), `.groups-${count}-${basename(base)}`);
  writeFileSync(file, doc.toString());
  parseConfig(doc.toString(), file); // refuses here, naming the field, rather than in the lab
  return file;
}
