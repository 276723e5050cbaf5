// Where an application's connection goes in: the HAProxy of the site the DNS name points at, then every other
// site's, as a client that resolves the name again on reconnect and falls back would.
import type { LoadedConfig } from '../config/load';
import { readRecords } from './dns';
import { rfc2136Read } from './dns-rfc2136';

export interface AppEntry {
  site: string;
  host: string;
  port: number;
}

export async function appEntries(loaded: LoadedConfig, dns = loaded.config.dns): Promise<AppEntry[]> {
  const proxied = loaded.config.sites.filter((s) => s.haproxy);
  if (proxied.length === 0) return [];
  const pointed = dns ? await pointedSite(loaded, dns) : null;
  return [...proxied]
    .sort((a, b) => Number(b.id === pointed) - Number(a.id === pointed))
    .map((s) => ({ site: s.id, host: s.haproxy!.listen.host, port: s.haproxy!.listen.port }));
}

async function pointedSite(loaded: LoadedConfig, dns: NonNullable<LoadedConfig['config']['dns']>): Promise<string | null> {
  try {
    const records = dns.provider === 'rfc2136' ? await rfc2136Read({ dns }) : await readRecords({ dns, baseDir: loaded.baseDir });
    return records[0]?.site ?? null;
  } catch {
    return null; // DNS does not answer: every site's proxy, in the config's order
  }
}
