// GTID arithmetic for both dialects. Pure code: used inside workflows (lost transactions) and activities.
//   MySQL:   "3E11FA47-...:1-5:7, 4A..:1-3"  sets of intervals per source UUID (and tag, since 8.3).
//   MariaDB: "0-1-120,1-2-7"                  the last sequence number per replication domain.

export interface GtidRange {
  /** MySQL source UUID, or MariaDB "domain-server". */
  source: string;
  from: number;
  to: number;
}

/**
 * Intervals per source. MySQL 8.3+ tags transactions (`uuid:1-5:audit:1-3`): a tag applies to the intervals
 * after it, and a tagged source is keyed `uuid:tag`, which is also how its GTIDs are spelled (`uuid:tag:n`).
 */
export function parseMysqlSet(set: string): Map<string, Array<[number, number]>> {
  const out = new Map<string, Array<[number, number]>>();
  for (const part of set.replace(/\s+/g, '').split(',').filter(Boolean)) {
    const [uuid, ...items] = part.split(':');
    let key = uuid!.toLowerCase();
    for (const item of items) {
      if (!/^\d/.test(item)) {
        key = `${uuid!.toLowerCase()}:${item.toLowerCase()}`;
        continue;
      }
      const [a, b] = item.split('-').map(Number);
      out.set(key, [...(out.get(key) ?? []), [a!, b ?? a!]]);
    }
  }
  // A set may be written with overlapping or adjacent intervals; as a set, each transaction counts once.
  for (const [uuid, list] of out) out.set(uuid, mergeIntervals(list));
  return out;
}

function mergeIntervals(list: Array<[number, number]>): Array<[number, number]> {
  const merged: Array<[number, number]> = [];
  for (const [from, to] of list.slice().sort((x, y) => x[0] - y[0])) {
    const last = merged[merged.length - 1];
    if (last && from <= last[1] + 1) last[1] = Math.max(last[1], to);
    else merged.push([from, to]);
  }
  return merged;
}

/** Transactions in `a` that are not in `b`, as ranges. MySQL semantics (GTID_SUBTRACT). */
export function subtractMysql(a: string, b: string): GtidRange[] {
  const A = parseMysqlSet(a);
  const B = parseMysqlSet(b);
  const out: GtidRange[] = [];
  for (const [uuid, ivs] of A) {
    const minus = (B.get(uuid) ?? []).slice().sort((x, y) => x[0] - y[0]);
    for (const [from, to] of ivs) {
      let cur = from;
      for (const [bf, bt] of minus) {
        if (bt < cur || bf > to) continue;
        if (bf > cur) out.push({ source: uuid, from: cur, to: Math.min(to, bf - 1) });
        cur = Math.max(cur, bt + 1);
        if (cur > to) break;
      }
      if (cur <= to) out.push({ source: uuid, from: cur, to });
    }
  }
  return out;
}

export function parseMariadbPos(pos: string): Map<number, { server: number; seq: number }> {
  const out = new Map<number, { server: number; seq: number }>();
  for (const g of pos.replace(/\s+/g, '').split(',').filter(Boolean)) {
    const [d, s, n] = g.split('-').map(Number);
    out.set(d!, { server: s!, seq: n! });
  }
  return out;
}

/**
 * MariaDB keeps only the last GTID per domain, so "a minus b" is, per domain, the sequence numbers after
 * b's and up to a's. With gtid_strict_mode sequence numbers only grow within a domain, which makes this exact.
 */
export function subtractMariadb(a: string, b: string): GtidRange[] {
  const A = parseMariadbPos(a);
  const B = parseMariadbPos(b);
  const out: GtidRange[] = [];
  for (const [domain, { server, seq }] of A) {
    const have = B.get(domain)?.seq ?? 0;
    if (seq > have) out.push({ source: `${domain}-${server}`, from: have + 1, to: seq });
  }
  return out;
}

export function subtractGtids(dialect: 'mysql' | 'mariadb', a: string, b: string): GtidRange[] {
  return dialect === 'mysql' ? subtractMysql(a, b) : subtractMariadb(a, b);
}

export function countGtids(ranges: GtidRange[]): number {
  return ranges.reduce((n, r) => n + (r.to - r.from + 1), 0);
}

export function formatRanges(dialect: 'mysql' | 'mariadb', ranges: GtidRange[]): string[] {
  return ranges.map((r) =>
    dialect === 'mysql'
      ? `${r.source}:${r.from === r.to ? r.from : `${r.from}-${r.to}`}`
      : r.from === r.to
        ? `${r.source}-${r.from}`
        : `${r.source}-${r.from}..${r.source}-${r.to}`,
  );
}

/** True when every transaction of `needed` is in `have`. */
export function contains(dialect: 'mysql' | 'mariadb', have: string, needed: string): boolean {
  return subtractGtids(dialect, needed, have).length === 0;
}

/**
 * Errant transactions: executed on the returning site, absent from the current primary.
 * MySQL: GTID_SUBTRACT. MariaDB keeps only the last GTID per domain, so the comparison is per domain, minding
 * the lineage: once the current primary writes in a domain, its sequence numbers pass the returning site's
 * own. The two histories then forked after the last GTID the primary applied as a replica of the returning
 * site's server: its gtid_slave_pos, which promotion does not reset. Returns null for a domain whose common
 * history cannot be established (no shared server in either position): a person must look at it.
 */
export function errantGtids(
  dialect: 'mysql' | 'mariadb',
  returning: { executed: string },
  primary: { executed: string; slavePos: string | null },
): { ranges: GtidRange[]; unknownDomains: number[] } {
  if (dialect === 'mysql') return { ranges: subtractMysql(returning.executed, primary.executed), unknownDomains: [] };
  const mine = parseMariadbPos(returning.executed);
  const theirs = parseMariadbPos(primary.executed);
  const replicated = parseMariadbPos(primary.slavePos ?? '');
  const ranges: GtidRange[] = [];
  const unknownDomains: number[] = [];
  for (const [domain, r] of mine) {
    const p = theirs.get(domain);
    const s = replicated.get(domain);
    let have: number;
    if (!p)
      have = 0; // the primary never saw this domain at all
    else if (p.server === r.server)
      have = p.seq; // same lineage: the primary has (or passed) ours
    else if (s && s.server === r.server)
      have = s.seq; // forked after the last one it replicated from us
    else {
      unknownDomains.push(domain);
      continue;
    }
    if (r.seq > have) ranges.push({ source: `${domain}-${r.server}`, from: have + 1, to: r.seq });
  }
  return { ranges, unknownDomains };
}

/** A set in MySQL's own spelling, one line: `uuid:1-5:7,uuid:tag:1-3`. */
function formatMysqlSet(set: Map<string, Array<[number, number]>>): string {
  return [...set]
    .filter(([, list]) => list.length > 0)
    .map(([key, list]) => `${key}:${list.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(':')}`)
    .join(',');
}

function formatMariadbPos(pos: Map<number, { server: number; seq: number }>): string {
  return [...pos]
    .sort(([a], [b]) => a - b)
    .map(([domain, { server, seq }]) => `${domain}-${server}-${seq}`)
    .join(',');
}

/** Every transaction of `a` or `b` (MariaDB: per domain, the later position). */
export function unionGtids(dialect: 'mysql' | 'mariadb', a: string, b: string): string {
  if (dialect === 'mysql') {
    const out = parseMysqlSet(a);
    for (const [key, list] of parseMysqlSet(b)) out.set(key, mergeIntervals([...(out.get(key) ?? []), ...list]));
    return formatMysqlSet(out);
  }
  const out = parseMariadbPos(a);
  for (const [domain, pos] of parseMariadbPos(b)) if (pos.seq > (out.get(domain)?.seq ?? -1)) out.set(domain, pos);
  return formatMariadbPos(out);
}

/** The transactions both `a` and `b` hold (MariaDB: per domain both know, the earlier position). */
export function intersectGtids(dialect: 'mysql' | 'mariadb', a: string, b: string): string {
  if (dialect === 'mysql') {
    const B = parseMysqlSet(b);
    const out = new Map<string, Array<[number, number]>>();
    for (const [key, list] of parseMysqlSet(a)) {
      const both: Array<[number, number]> = [];
      for (const [from, to] of list)
        for (const [bf, bt] of B.get(key) ?? []) if (Math.max(from, bf) <= Math.min(to, bt)) both.push([Math.max(from, bf), Math.min(to, bt)]);
      out.set(key, mergeIntervals(both));
    }
    return formatMysqlSet(out);
  }
  const B = parseMariadbPos(b);
  const out = new Map<number, { server: number; seq: number }>();
  for (const [domain, pos] of parseMariadbPos(a)) {
    const other = B.get(domain);
    if (other) out.set(domain, other.seq < pos.seq ? other : pos);
  }
  return formatMariadbPos(out);
}

/** How many transactions a set holds (MariaDB: the sequence numbers up to each domain's position). */
export function sizeOfSet(dialect: 'mysql' | 'mariadb', set: string): number {
  return countGtids(subtractGtids(dialect, set, ''));
}
