// A replica's GTID gap: what its source executed that it has not. The source is found by the address the
// replica replicates from, among the config's sites, and read over a connection of its own.
import type { LoadedConfig } from '../../config/load';
import { DatabaseWatch, type DatabaseProbe } from '../../activities/database-watch';
import { countGtids, subtractGtids } from '../../domain/gtid';

export class SourceGap {
  private readonly watches = new Map<string, DatabaseWatch>();

  constructor(private readonly loaded: LoadedConfig) {}

  /** Null when the source is not a site of the config or does not answer. */
  async of(replica: DatabaseProbe, dialect: 'mysql' | 'mariadb' | null): Promise<number | null> {
    const r = replica.replication;
    const source = this.loaded.config.sites.find((s) => s.mysql.host === r?.sourceHost && s.mysql.port === r?.sourcePort);
    if (!source || !dialect || replica.gtidExecuted === undefined) return null;
    let watch = this.watches.get(source.id);
    if (!watch) this.watches.set(source.id, (watch = new DatabaseWatch(source, this.loaded.baseDir)));
    const seen = await watch.probe(true);
    return seen.up && seen.gtidExecuted !== undefined ? countGtids(subtractGtids(dialect, seen.gtidExecuted, replica.gtidExecuted)) : null;
  }

  close(): void {
    for (const w of this.watches.values()) w.close();
  }
}
