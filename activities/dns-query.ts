// Asking one DNS server directly, with dig: what it answers for a record, and which version of the zone (its
// SOA serial) it serves. dig rather than Node's resolver: it gives the TTL of every type, the response code and
// the authoritative flag, and asks exactly the server named (no search list, no cache).
import { spawn } from 'node:child_process';

export interface DnsServerAddress {
  host: string;
  port: number;
}

export interface AnswerRecord {
  name: string;
  ttl: number;
  type: string;
  value: string;
}

export interface Answer {
  /** NOERROR, NXDOMAIN, REFUSED, SERVFAIL… */
  rcode: string;
  /** The server answered from a zone of its own. */
  authoritative: boolean;
  records: AnswerRecord[];
}

/** The server did not answer at all: refused connection, silence, an unreachable address. */
export class NoAnswerError extends Error {
  override name = 'NoAnswerError';
}

const INSTALL_HINT = "install BIND's client tools: apt-get install bind9-dnsutils (dig, nsupdate)";

/**
 * One query, one try. `recurse: false` asks an authoritative server for its own data; a resolver is asked with
 * recursion, as a client would ask it.
 */
export async function ask(
  server: DnsServerAddress,
  name: string,
  type: string,
  opts: { recurse?: boolean; timeoutSeconds?: number } = {},
): Promise<Answer> {
  const args = [
    `@${server.host}`,
    '-p',
    String(server.port),
    opts.recurse === false ? '+norecurse' : '+recurse',
    `+time=${opts.timeoutSeconds ?? 1}`,
    '+tries=1',
    '+noall',
    '+answer',
    '+comments',
    name,
    type,
  ];
  const { code, output } = await runDnsTool('dig', args);
  const status = /->>HEADER<<-.*status: ([A-Z]+)/.exec(output)?.[1];
  if (code !== 0 || status === undefined) {
    const why = output.split('\n').find((line) => /error|timed out|refused|unreachable|no servers/i.test(line));
    throw new NoAnswerError(why?.replace(/^;+\s*/, '').trim() ?? `dig exited with ${code}`);
  }
  const flags = /;; flags:([^;]*);/.exec(output)?.[1] ?? '';
  const records = output
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith(';'))
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length >= 5)
    .map(([owner, ttl, , rtype, ...rdata]) => ({ name: owner!, ttl: Number(ttl), type: rtype!, value: rdata.join(' ') }));
  return { rcode: status, authoritative: flags.split(' ').includes('aa'), records };
}

/** The zone's SOA serial as this server serves it (asked authoritatively). */
export async function zoneSerial(server: DnsServerAddress, zone: string): Promise<number> {
  const answer = await ask(server, zone, 'SOA', { recurse: false });
  const soa = answer.records.find((r) => r.type === 'SOA');
  if (answer.rcode !== 'NOERROR' || !answer.authoritative || !soa) {
    throw new NoAnswerError(`does not serve zone ${zone} (${answer.rcode}${answer.authoritative ? '' : ', not authoritative'})`);
  }
  // mname rname serial refresh retry expire minimum
  return Number(soa.value.split(' ')[2]);
}

/** RFC 1982 serial arithmetic: whether serial `a` is `b` or later (serials wrap at 2^32). */
export function serialAtLeast(a: number, b: number): boolean {
  return (a - b + 2 ** 32) % 2 ** 32 < 2 ** 31;
}

/** Runs dig or nsupdate with `input` on stdin; a missing binary says how to install it. Output is stdout + stderr. */
export function runDnsTool(command: 'dig' | 'nsupdate', args: string[], input = '', timeoutMs = 30_000): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(err.code === 'ENOENT' ? new Error(`${command} is not on the PATH: ${INSTALL_HINT}`) : err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), output: signal ? `${output}\n${command} killed after ${timeoutMs} ms` : output });
    });
    child.stdin.on('error', () => {}); // a tool that exits early closes its stdin; its exit code says why
    child.stdin.end(input);
  });
}
