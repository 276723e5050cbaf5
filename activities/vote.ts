// A vantage point's vote: can it reach the suspected primary's database and router from where it stands?
// Short timeouts on purpose: a vote that takes seconds is a vote from a partitioned place.
import { Socket } from 'node:net';
import mysql from 'mysql2/promise';
import type { Site } from '../config/schema';
import type { LeaseView, Vote } from '../domain/detection';
import { resolveSecret } from './secrets';

const TIMEOUT_MS = 700;

export async function voteOn(vantage: string, suspect: Site, baseDir: string, lease: LeaseView | null): Promise<Vote> {
  const [database, router] = await Promise.all([databaseAnswers(suspect, baseDir), suspect.proxysql ? tcpAnswers(suspect.proxysql) : null]);
  return {
    vantage,
    database: database === true ? 'up' : 'down',
    router: router === null ? 'none' : router === true ? 'up' : 'down',
    detail: [database === true ? 'database answers' : `database: ${database}`, router === null || router === true ? null : `router: ${router}`]
      .filter(Boolean)
      .join('; '),
    lease,
    at: new Date().toISOString(),
  };
}

/**
 * The same question asked through the confirmation window, until `until` (epoch ms, this host's clock): "down"
 * only if the database never answered; an answer ends the watch at once, as "up".
 */
export async function watchOn(vantage: string, suspect: Site, baseDir: string, lease: () => LeaseView | null, until: number): Promise<Vote> {
  // The router is asked once, beside the watch: an unreachable one costs its whole timeout.
  const router = suspect.proxysql ? tcpAnswers(suspect.proxysql) : Promise.resolve(null);
  let answer: true | string;
  let probes = 0;
  do {
    answer = await databaseAnswers(suspect, baseDir, Math.max(100, Math.min(TIMEOUT_MS, until - Date.now())));
    probes++;
    if (answer === true) break;
    await new Promise((r) => setTimeout(r, Math.max(0, Math.min(100, until - Date.now()))));
  } while (Date.now() < until);
  const routed = await router;
  return {
    vantage,
    database: answer === true ? 'up' : 'down',
    router: routed === null ? 'none' : routed === true ? 'up' : 'down',
    detail: answer === true ? `database answered (probe ${probes} of the window)` : `database down through the window (${probes} probes): ${answer}`,
    lease: lease(),
    at: new Date().toISOString(),
  };
}

async function databaseAnswers(site: Site, baseDir: string, timeoutMs = TIMEOUT_MS): Promise<true | string> {
  let conn: mysql.Connection | undefined;
  try {
    conn = await mysql.createConnection({
      host: site.mysql.host,
      port: site.mysql.port,
      user: site.mysql.user,
      password: resolveSecret(site.mysql.password, baseDir),
      connectTimeout: timeoutMs,
    });
    conn.on('error', () => undefined);
    await conn.query({ sql: 'SELECT 1', timeout: timeoutMs });
    return true;
  } catch (err) {
    return (err as Error).message;
  } finally {
    conn?.destroy();
  }
}

export function tcpAnswers(ep: { host: string; port: number }, timeoutMs = TIMEOUT_MS): Promise<true | string> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (r: true | string) => (socket.destroy(), resolve(r));
    socket.setTimeout(timeoutMs, () => done(`no answer within ${timeoutMs} ms`));
    socket.once('error', (err) => done(err.message));
    socket.connect(ep.port, ep.host, () => done(true));
  });
}
