// Plain-text renderings of runbook results for people.
import type { PreflightReport } from '../workflows/preflight';

/** A column at least `width` wide that never runs into the next one. */
const column = (text: string, width: number): string => (text.length >= width ? `${text} ` : text.padEnd(width));

export function renderPreflight(r: PreflightReport): string {
  const lines = [`config ${r.config}, objectives RTO ${r.objectives.rtoSeconds} s, RPO ${r.objectives.rpoSeconds} s, checked ${r.checkedAt}`];
  lines.push(`${'site'.padEnd(6)}${'role'.padEnd(9)}${'state'.padEnd(13)}${'server'.padEnd(10)}${'gtid executed'.padEnd(24)}replication`);
  for (const s of r.sites) {
    const db = s.database;
    const rep = db?.replication;
    const state = s.reachability !== 'ok' ? s.reachability : db!.readOnly ? 'read-only' : 'WRITABLE';
    const repText = !db
      ? (s.error ?? '')
      : rep
        ? `from ${rep.sourceHost}:${rep.sourcePort}, IO ${rep.ioRunning ? 'running' : 'STOPPED'}, SQL ${rep.sqlRunning ? 'running' : 'STOPPED'}, lag ${rep.secondsBehind ?? '?'} s`
        : 'none (source)';
    lines.push(
      column(s.site, 6) +
        column(s.role, 9) +
        column(state, 13) +
        column(db ? `#${db.serverId}` : '-', 10) +
        column(db?.gtidExecuted || '-', 24) +
        repText,
    );
  }
  lines.push(r.flags.length === 0 ? 'flags: none — ready for a switchover' : 'flags:');
  for (const f of r.flags) lines.push(`  [${f.severity}] ${f.code}${f.site ? ` (${f.site})` : ''}: ${f.message}`);
  lines.push(`verdict: ${r.ok ? 'OK' : 'NOT OK'}`);
  return lines.join('\n');
}
