// The lab's WAN: one network namespace per site, a point-to-point link between every two sites, and a
// management link from each site to the host (the operator's seat: drctl, the tests, the browser).
//
// A cut link drops every frame silently, both ways, as a real partition does: each end's neighbour entry
// for the other points at a hardware address nobody has. Connections hang and time out; nothing is refused.
// The management links are never cut, so that an observer still sees every server during a partition.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import type { LoadedConfig } from '../config/load';
import { ipInSubnet, labOf, type LabSettings } from './settings';

type Network = NonNullable<LabSettings['network']>;

/** Where a component runs: its address, and its namespace when the lab has them. */
export interface Placement {
  site: string;
  host: string;
  netns?: string;
}

/** A fault asked of a site the lab does not have, or of a lab that cannot do it: the caller's mistake. */
export class LabInputError extends Error {}

const NOWHERE = '02:00:00:00:00:00';
const HOST_LINK = 'to-host';

export class LabNetwork {
  readonly net?: Network;

  constructor(private readonly loaded: LoadedConfig) {
    this.net = labOf(loaded).network;
  }

  get enabled(): boolean {
    return this.net !== undefined;
  }

  /** The product's sites and the control site. */
  get sites(): string[] {
    return this.net ? Object.keys(this.net.sites) : [...this.loaded.config.sites.map((s) => s.id), CONTROL];
  }

  get controlSite(): string {
    return this.net?.control ?? CONTROL;
  }

  /** `site` undefined: the control plane (Temporal, the control worker, moto, the object store, the notice sink). */
  place(site?: string): Placement {
    const id = site ?? this.controlSite;
    if (!this.net) return { site: id, host: '127.0.0.1' };
    const host = this.net.sites[id];
    if (!host) throw new Error(`${this.loaded.file}: x-lab.network.sites: no address for site '${id}'`);
    return { site: id, host, netns: this.nsName(id) };
  }

  nsName(site: string): string {
    return `${this.loaded.config.name}-${site}`;
  }

  /** Why isolation cannot work here, or null when it can. */
  whyNot(): string | null {
    if (!this.net) return `${this.loaded.file}: x-lab.network is not set, so every site shares the host's loopback and no link can be cut`;
    if (process.getuid?.() !== 0) return 'network namespaces need root (ip netns); run the lab as root';
    try {
      execFileSync('ip', ['-V'], { stdio: 'ignore' });
    } catch {
      return "the 'ip' command (iproute2) is missing; install it (apt-get install iproute2)";
    }
    return null;
  }

  /** Creates what is missing: namespaces, links, addresses and routes. Idempotent; heals nothing that is cut. */
  up(): void {
    const net = this.net;
    if (!net) return;
    const why = this.whyNot();
    if (why) throw new Error(`lab network: ${why}`);
    this.checkSubnetUnused(net);
    const existing = new Set(
      ip(['netns', 'list'])
        .split('\n')
        .map((l) => l.split(' ')[0]),
    );
    for (const site of this.sites) {
      const ns = this.nsName(site);
      if (!existing.has(ns)) ip(['netns', 'add', ns]);
      ipIn(ns, ['link', 'set', 'lo', 'up']);
      if (!ipIn(ns, ['-4', '-o', 'addr', 'show', 'dev', 'lo']).includes(`${net.sites[site]}/32`))
        ipIn(ns, ['addr', 'add', `${net.sites[site]}/32`, 'dev', 'lo']);
    }
    if (!ip(['-4', '-o', 'addr', 'show', 'dev', 'lo']).includes(`${net.observer}/32`)) ip(['addr', 'add', `${net.observer}/32`, 'dev', 'lo']);
    for (const site of this.sites) this.hostLink(net, site);
    for (const [a, b] of this.pairs()) this.siteLink(net, a, b);
  }

  /** Removes the namespaces (their links go with them) and the host's side. Only after every process is stopped. */
  down(): void {
    const net = this.net;
    if (!net || this.whyNot()) return;
    const existing = ip(['netns', 'list']);
    for (const site of this.sites) {
      if (linkExists(undefined, this.hostIf(site))) ip(['link', 'del', this.hostIf(site)]);
      if (existing.includes(this.nsName(site))) ip(['netns', 'del', this.nsName(site)]);
    }
    if (ip(['-4', '-o', 'addr', 'show', 'dev', 'lo']).includes(`${net.observer}/32`)) ip(['addr', 'del', `${net.observer}/32`, 'dev', 'lo']);
  }

  /** Cuts every link of `site`, or only the one between `site` and `from`. The site keeps running. */
  isolate(site: string, from?: string): string[] {
    const net = this.requireNamespaces();
    this.known(site);
    if (from !== undefined) this.known(from);
    if (from === site) throw new LabInputError(`lab isolate: --from ${from} is the site being isolated`);
    const peers = from ? [from] : this.sites.filter((s) => s !== site);
    for (const peer of peers) {
      neighbour(this.nsName(site), peer, net.sites[peer]!, NOWHERE);
      neighbour(this.nsName(peer), site, net.sites[site]!, NOWHERE);
    }
    return peers.map((p) => `${site} ✂ ${p}`);
  }

  /** Restores every link of `site`, or every link of the lab. */
  heal(site?: string): string[] {
    const net = this.requireNamespaces();
    if (site !== undefined) this.known(site);
    const healed: string[] = [];
    for (const [a, b] of this.pairs()) {
      if (site && a !== site && b !== site) continue;
      const wasCut = isCut(this.nsName(a), b, net.sites[b]!);
      neighbour(this.nsName(a), b, net.sites[b]!, null);
      neighbour(this.nsName(b), a, net.sites[a]!, null);
      if (wasCut) healed.push(`${a} ↔ ${b}`);
    }
    return healed;
  }

  /**
   * Who reaches whom, measured: a TCP connection from inside each site to every other site's address. A refusal
   * is an answer (reachable); silence for `timeoutMs` means the link is cut.
   */
  async reachability(timeoutMs = 700): Promise<Reachability> {
    const net = this.requireNamespaces();
    const rows = await Promise.all(
      this.sites.flatMap((a) =>
        this.sites.filter((b) => b !== a).map(async (b) => ({ from: a, to: b, reachable: await probe(this.nsName(a), net.sites[b]!, timeoutMs) })),
      ),
    );
    return { sites: this.sites, links: rows };
  }

  private requireNamespaces(): Network {
    const why = this.whyNot();
    if (why) throw new LabInputError(`the lab cannot cut links here: ${why}`);
    return this.net!;
  }

  private known(site: string): void {
    if (!this.sites.includes(site)) throw new LabInputError(`unknown site '${site}' (lab sites: ${this.sites.join(', ')})`);
  }

  private pairs(): Array<[string, string]> {
    const s = this.sites;
    return s.flatMap((a, i) => s.slice(i + 1).map((b) => [a, b] as [string, string]));
  }

  /** The host's end of a site's management link: unique per lab, within the kernel's 15 characters. */
  private hostIf(site: string): string {
    const tag = createHash('sha256').update(this.loaded.config.name).digest('hex').slice(0, 4);
    return `d${tag}-${site}`.slice(0, 15);
  }

  private hostLink(net: Network, site: string): void {
    const ns = this.nsName(site);
    const hostIf = this.hostIf(site);
    if (!linkExists(undefined, hostIf)) ip(['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', HOST_LINK, 'netns', ns]);
    ip(['link', 'set', hostIf, 'up']);
    ipIn(ns, ['link', 'set', HOST_LINK, 'up']);
    ip(['route', 'replace', `${net.sites[site]}/32`, 'dev', hostIf, 'src', net.observer]);
    ipIn(ns, ['route', 'replace', `${net.observer}/32`, 'dev', HOST_LINK, 'src', net.sites[site]!]);
  }

  private siteLink(net: Network, a: string, b: string): void {
    const [nsA, nsB] = [this.nsName(a), this.nsName(b)];
    if (!linkExists(nsA, linkTo(b))) {
      // A half left by an interrupted run would block the pair's creation.
      if (linkExists(nsB, linkTo(a))) ipIn(nsB, ['link', 'del', linkTo(a)]);
      ipIn(nsA, ['link', 'add', linkTo(b), 'type', 'veth', 'peer', 'name', linkTo(a), 'netns', nsB]);
    }
    ipIn(nsA, ['link', 'set', linkTo(b), 'up']);
    ipIn(nsB, ['link', 'set', linkTo(a), 'up']);
    ipIn(nsA, ['route', 'replace', `${net.sites[b]}/32`, 'dev', linkTo(b), 'src', net.sites[a]!]);
    ipIn(nsB, ['route', 'replace', `${net.sites[a]}/32`, 'dev', linkTo(a), 'src', net.sites[b]!]);
  }

  /** Addresses or routes of the subnet that are not the lab's own: another network would be shadowed. */
  private checkSubnetUnused(net: Network): void {
    const ours = new Set(this.sites.map((s) => this.hostIf(s)));
    const clash: string[] = [];
    for (const line of ip(['-4', '-o', 'addr', 'show']).split('\n')) {
      const m = /^\d+:\s+(\S+)\s+inet\s+(\d+\.\d+\.\d+\.\d+)/.exec(line);
      if (m && ipInSubnet(m[2]!, net.subnet) && !(m[1] === 'lo' && m[2] === net.observer)) clash.push(`address ${m[2]} on ${m[1]}`);
    }
    for (const line of ip(['-4', 'route', 'show']).split('\n')) {
      const m = /^(\d+\.\d+\.\d+\.\d+)(?:\/\d+)?\s.*\bdev\s+(\S+)/.exec(line);
      if (m && ipInSubnet(m[1]!, net.subnet) && !ours.has(m[2]!)) clash.push(`route ${line.trim()}`);
    }
    if (clash.length)
      throw new Error(`${this.loaded.file}: x-lab.network.subnet: ${net.subnet} is in use on this host (${clash.join('; ')}); pick an unused subnet`);
  }
}

export interface Reachability {
  sites: string[];
  links: Array<{ from: string; to: string; reachable: boolean }>;
}

/** The matrix as text: a row per site, ✓ where it reaches the column's site, ✗ where the link is cut. */
export function formatReachability(r: Reachability): string {
  const width = Math.max(4, ...r.sites.map((s) => s.length)) + 2;
  const head = ' '.repeat(width) + r.sites.map((s) => s.padEnd(width)).join('');
  const rows = r.sites.map(
    (a) =>
      a.padEnd(width) +
      r.sites.map((b) => (a === b ? '·' : r.links.find((l) => l.from === a && l.to === b)?.reachable ? '✓' : '✗').padEnd(width)).join(''),
  );
  return [head, ...rows].join('\n');
}

/** The control site's id where the lab has no network section (loopback). */
const CONTROL = 'ops';

const linkTo = (site: string) => `to-${site}`.slice(0, 15);

function ip(args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function ipIn(ns: string, args: string[]): string {
  return ip(['-n', ns, ...args]);
}

function linkExists(ns: string | undefined, name: string): boolean {
  try {
    ip([...(ns ? ['-n', ns] : []), 'link', 'show', 'dev', name]);
    return true;
  } catch {
    return false;
  }
}

/** `lladdr` null: forget the entry, so that the kernel asks again (heal). */
function neighbour(ns: string, peer: string, address: string, lladdr: string | null): void {
  if (lladdr) return void ipIn(ns, ['neigh', 'replace', address, 'lladdr', lladdr, 'dev', linkTo(peer), 'nud', 'permanent']);
  try {
    ipIn(ns, ['neigh', 'del', address, 'dev', linkTo(peer)]);
  } catch {
    /* no entry: nothing was cut */
  }
}

function isCut(ns: string, peer: string, address: string): boolean {
  return ipIn(ns, ['neigh', 'show', address, 'dev', linkTo(peer)]).includes(NOWHERE);
}

function probe(ns: string, address: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    // Port 9 (discard) listens nowhere in the lab: "refused" proves the path works.
    const child = spawn('ip', ['netns', 'exec', ns, 'bash', '-c', `exec 3<>/dev/tcp/${address}/9`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(code === 0 || /refused/i.test(err));
    });
  });
}

/** Where a site's components (or, with no site, the control plane's) run. */
export function placeOf(loaded: LoadedConfig, site?: string): Placement {
  return new LabNetwork(loaded).place(site);
}
