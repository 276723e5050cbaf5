// A load generator that behaves like the trading app: sequence-numbered writes through a site's HAProxy (the
// site the DNS name points at first, as a client that resolves it on reconnect would), retrying the same
// sequence number after an error. Without HAProxy in the config, it asks ProxySQL which server writes and
// connects there. Every acknowledged write is logged, with the server that took it: the ground truth for
// "no acknowledged write was lost".
import mysql from 'mysql2/promise';
import type { LoadedConfig } from '../config/load';
import { resolveSecret } from '../activities/secrets';
import { readServers, type ProxySqlEndpoint } from '../activities/proxysql';
import { appEntries } from '../activities/app-entry';
import { appPasswordFile } from './database';
import { labDnsConfig } from './moto';

export interface Ack {
  seq: number;
  at: number;
  host: string;
  port: number;
}

export interface LoadSummary {
  writer: string;
  acked: Ack[];
  attempts: number;
  errors: number;
  /** Longest gap between two consecutive acknowledged writes. */
  writeUnavailableMs: number;
  ratePerSecond: number;
}

export class LoadGenerator {
  readonly acked: Ack[] = [];
  private stopping = false;
  private running: Promise<void> | undefined;
  private conn: mysql.Connection | undefined;
  private target: { host: string; port: number } | undefined;
  attempts = 0;
  errors = 0;

  constructor(
    private readonly loaded: LoadedConfig,
    /** `pinned`: always this server, as a client inside its site would (it never asks ProxySQL). */
    private readonly opts: { writer?: string; ratePerSecond?: number; startSeq?: number; pinned?: { host: string; port: number } } = {},
  ) {}

  get writer(): string {
    return this.opts.writer ?? `load-${process.pid}`;
  }

  start(): void {
    this.running = this.loop();
  }

  /** Stops the load (idempotent) and summarises it. */
  async stop(): Promise<LoadSummary> {
    this.stopping = true;
    await this.running;
    await this.conn?.end().catch(() => this.conn?.destroy());
    this.conn = undefined;
    let gap = 0;
    for (let i = 1; i < this.acked.length; i++) gap = Math.max(gap, this.acked[i]!.at - this.acked[i - 1]!.at);
    const span = this.acked.length > 1 ? (this.acked.at(-1)!.at - this.acked[0]!.at) / 1000 : 0;
    return {
      writer: this.writer,
      acked: this.acked,
      attempts: this.attempts,
      errors: this.errors,
      writeUnavailableMs: gap,
      ratePerSecond: span ? this.acked.length / span : 0,
    };
  }

  /** The writer ProxySQL routes to: the ONLINE server of the writer hostgroup in the first site that answers. */
  async currentWriter(): Promise<{ host: string; port: number }> {
    if (this.opts.pinned) return this.opts.pinned;
    for (const s of this.loaded.config.sites) {
      if (!s.proxysql) continue;
      const ep: ProxySqlEndpoint = { ...s.proxysql, password: resolveSecret(s.proxysql.password, this.loaded.baseDir), connectTimeoutMs: 500 };
      try {
        const rows = await readServers(ep, 'runtime');
        const w = rows.find((r) => r.hostgroup_id === s.proxysql!.writerHostgroup && r.status === 'ONLINE');
        if (w) return { host: w.hostname, port: w.port };
      } catch {
        /* that site's ProxySQL is down: ask the next one */
      }
    }
    throw new Error('no ProxySQL knows an ONLINE writer');
  }

  private async connect(): Promise<mysql.Connection> {
    const proxies = this.opts.pinned ? [] : await appEntries(this.loaded, labDns(this.loaded));
    if (proxies.length === 0) {
      this.target = await this.currentWriter();
      return this.open(this.target);
    }
    let last: unknown;
    for (const entry of proxies) {
      try {
        const c = await this.open({ host: entry.host, port: entry.port });
        // HAProxy passes the connection through to one server: ask which, so each acknowledgement names it.
        const [rows] = await c.query('SELECT @@port AS port');
        const port = Number((rows as Array<{ port: number }>)[0]!.port);
        const site = this.loaded.config.sites.find((x) => x.mysql.port === port);
        this.target = { host: site?.mysql.host ?? entry.host, port };
        return c;
      } catch (err) {
        last = err;
      }
    }
    throw last;
  }

  private async open(to: { host: string; port: number }): Promise<mysql.Connection> {
    const c = await mysql.createConnection({
      ...to,
      user: 'app',
      password: resolveSecret('file:' + appPasswordFile(this.loaded), this.loaded.baseDir),
      connectTimeout: 1000,
    });
    c.on('error', () => undefined);
    return c;
  }

  private async loop(): Promise<void> {
    const interval = 1000 / (this.opts.ratePerSecond ?? 250);
    let seq = this.opts.startSeq ?? 1;
    let next = Date.now();
    while (!this.stopping) {
      this.attempts++;
      try {
        this.conn ??= await this.connect();
        await this.conn.query('INSERT INTO trading.ticks (seq, writer) VALUES (?, ?)', [seq, this.writer]);
        this.acked.push({ seq, at: Date.now(), ...this.target! });
        seq++;
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === 'ER_DUP_ENTRY') {
          // An earlier attempt committed but its acknowledgement was lost with the connection.
          seq++;
          continue;
        }
        this.errors++;
        await this.conn?.end().catch(() => this.conn?.destroy());
        this.conn = undefined;
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      next += interval;
      const wait = next - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      else if (wait < -1000) next = Date.now();
    }
  }
}

/** The DNS the lab's clients resolve: Route 53 (moto) with its generated zone id, or the config's own. */
function labDns(loaded: LoadedConfig): LoadedConfig['config']['dns'] {
  const dns = loaded.config.dns;
  if (!dns || dns.provider === 'rfc2136') return dns;
  try {
    return labDnsConfig(loaded);
  } catch {
    return undefined; // moto not started: every site's proxy in turn
  }
}

/** Polls every server's read_only every `everyMs`; records any moment with more than one writable. */
export class SplitBrainWatch {
  readonly samples: Array<{ at: number; writable: string[] }> = [];
  private stopping = false;
  private running: Promise<void> | undefined;

  constructor(
    private readonly loaded: LoadedConfig,
    private readonly everyMs = 100,
  ) {}

  start(): void {
    this.running = this.loop();
  }

  async stop(): Promise<{ samples: number; maxWritable: number; violations: Array<{ at: number; writable: string[] }> }> {
    this.stopping = true;
    await this.running;
    return {
      samples: this.samples.length,
      maxWritable: Math.max(0, ...this.samples.map((s) => s.writable.length)),
      violations: this.samples.filter((s) => s.writable.length > 1),
    };
  }

  private async loop(): Promise<void> {
    const conns = new Map<string, mysql.Connection | null>();
    const open = async (id: string) => {
      const s = this.loaded.config.sites.find((x) => x.id === id)!;
      try {
        const c = await mysql.createConnection({
          host: s.mysql.host,
          port: s.mysql.port,
          user: s.mysql.user,
          password: resolveSecret(s.mysql.password, this.loaded.baseDir),
          connectTimeout: 300,
        });
        c.on('error', () => undefined);
        return c;
      } catch {
        return null;
      }
    };
    while (!this.stopping) {
      const writable: string[] = [];
      await Promise.all(
        this.loaded.config.sites.map(async (s) => {
          const c = conns.get(s.id) ?? (await open(s.id));
          conns.set(s.id, c);
          if (!c) return;
          try {
            const [r] = await c.query({ sql: 'SELECT @@global.read_only', rowsAsArray: true });
            if (Number((r as unknown[][])[0]![0]) === 0) writable.push(s.id);
          } catch {
            c.destroy();
            conns.set(s.id, null);
          }
        }),
      );
      this.samples.push({ at: Date.now(), writable });
      await new Promise((r) => setTimeout(r, this.everyMs));
    }
    for (const c of conns.values()) c?.destroy();
  }
}
