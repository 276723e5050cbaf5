// Reports a person can read: JSON for tools, Markdown for people, written from what the steps recorded.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StepRecord } from '../domain/steps';
import type { ScaleResult } from './kubernetes';
import { incidentMarkdown, type IncidentLike } from './report-incident';
import { siteMarkdown, type SiteLike } from './report-site';

/** A step that scaled a site records a ScaleResult. */
function scaleOf(s: StepRecord): ScaleResult | undefined {
  const d = s.detail as Partial<ScaleResult> | undefined;
  return d && Array.isArray(d.applied) && Array.isArray(d.previous) && d.ready ? (d as ScaleResult) : undefined;
}

export interface ReportLike {
  runbook: string;
  workflowId: string;
  runId?: string;
}

export function writeReportFiles(dir: string, report: ReportLike): { json: string; markdown: string } {
  mkdirSync(dir, { recursive: true });
  const base = join(dir, `${report.workflowId}${report.runId ? `-${String(report.runId)}` : ''}`);
  const files = { json: `${base}.json`, markdown: `${base}.md` };
  writeFileSync(files.json, JSON.stringify({ ...report, files }, null, 2));
  writeFileSync(files.markdown, renderMarkdown(report));
  return files;
}

export function renderMarkdown(report: ReportLike): string {
  const r = report as ReportLike & Record<string, unknown>;
  const out: string[] = [`# ${r.runbook}: ${r.workflowId}`, ''];
  const kv = (k: string, v: unknown) => v !== undefined && v !== null && out.push(`- **${k}:** ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  const input = r.input as Record<string, unknown> | undefined;
  if (input)
    kv(
      'input',
      Object.entries(input)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(', '),
    );
  kv('outcome', r.outcome);
  kv('started', r.startedAt);
  kv('ended', r.endedAt);
  const obj = r.objectives as { rtoSeconds: number; rpoSeconds: number } | undefined;
  if (r.rtoMs !== undefined)
    kv(
      'RTO',
      r.rtoMs === null
        ? 'not reached (no promotion)'
        : `${((r.rtoMs as number) / 1000).toFixed(2)} s${obj ? ` (objective ${obj.rtoSeconds} s: ${(r.rtoMs as number) <= obj.rtoSeconds * 1000 ? 'met' : 'MISSED'})` : ''}`,
    );
  const ponr = r.pointOfNoReturn as { reached: boolean; at: string | null } | undefined;
  if (ponr) kv('point of no return (promote)', ponr.reached ? `passed at ${ponr.at}` : 'not reached: everything before it was undone or never done');
  type Lost = { known: boolean; count: number | null; gtids: string[]; note: string };
  const rpo = r.rpo as { lagSecondsAtPromotion: number | null; gtidAtPromotion: string | null; lost: Lost } | undefined;
  const lost = (rpo?.lost ?? r.lost) as Lost | undefined;
  if (rpo) {
    kv(
      'RPO: lag at promotion',
      rpo.lagSecondsAtPromotion === null ? 'unknown' : `${rpo.lagSecondsAtPromotion} s${obj ? ` (objective ${obj.rpoSeconds} s)` : ''}`,
    );
    kv('GTID at promotion', rpo.gtidAtPromotion);
  }
  if (lost)
    kv(
      'lost transactions',
      lost.known ? `${lost.count}${lost.gtids.length ? `: ${lost.gtids.join(', ')}` : ''} — ${lost.note}` : `unknown — ${lost.note}`,
    );
  // Failback: what the returning site had that the primary never got, where it went, and the re-seed.
  const errant = r.errant as
    | {
        count: number;
        gtids: string[];
        tables: string[];
        export: { file: string; sha256: string; bytes: number } | null;
        decision: { decision: string; by: string } | null;
      }
    | undefined;
  if (errant) {
    kv(
      'errant transactions',
      errant.count === 0 ? 'none' : `${errant.count}: ${errant.gtids.join(', ')}; tables ${errant.tables.join(', ') || 'none'}`,
    );
    if (errant.export) kv('errant export', `${errant.export.file} (${errant.export.bytes} bytes, sha256 ${errant.export.sha256})`);
    if (errant.decision) kv('errant decision', `${errant.decision.decision === 'approved' ? 're-seed' : 'abort'} by ${errant.decision.by}`);
  }
  const reseed = r.reseed as
    { done: boolean; why: string; result: { bytes: number; tables: number; durationMs: number; gtidPosition: string } | null } | undefined;
  if (reseed)
    kv(
      're-seed',
      reseed.done && reseed.result
        ? `${reseed.result.bytes} bytes, ${reseed.result.tables} tables in ${reseed.result.durationMs} ms, from GTID position ${reseed.result.gtidPosition} (${reseed.why})`
        : `not done: ${reseed.why}`,
    );
  const reprotect = r.reprotect as { caughtUp: { lagSeconds: number; waitedMs: number } | null } | undefined;
  if (reprotect?.caughtUp) kv('reprotect', `caught up to ${reprotect.caughtUp.lagSeconds} s lag in ${reprotect.caughtUp.waitedMs} ms`);
  const switchover = r.switchover as { workflowId: string; outcome: string; files: { markdown: string } | null } | null | undefined;
  if (switchover)
    kv('switchover', `${switchover.workflowId}: ${switchover.outcome}${switchover.files ? ` (report ${switchover.files.markdown})` : ''}`);
  const semiSync = r.semiSync as { note: string } | null | undefined;
  if (semiSync) kv('semi-sync', semiSync.note);
  const approval = r.approval as { decision: string; how: string; by: string; reason: string } | null | undefined;
  if (approval) kv('approval', `${approval.decision} (${approval.how}) by ${approval.by}: ${approval.reason}`);
  if (r.error) kv('error', r.error);
  if (r.runbook === 'incident') out.push(...incidentMarkdown(r as IncidentLike));
  if (r.runbook === 'site-failover') out.push(...siteMarkdown(r as unknown as SiteLike));
  const steps = r.steps as StepRecord[] | undefined;
  if (steps?.length) {
    out.push('', '## Timeline', '', '| step | state | started | duration | attempts | detail |', '|---|---|---|---|---|---|');
    for (const s of steps) {
      const scale = scaleOf(s);
      const detail = s.error
        ? `error: ${s.error}`
        : scale
          ? `${scale.site}: ${scale.applied.length} services to ${scale.profile} size, ${scale.ready.ready}/${scale.ready.total} ready after ${scale.ready.waitedMs} ms (see Kubernetes)`
          : s.detail
            ? JSON.stringify(s.detail).slice(0, 400)
            : '';
      out.push(
        `| ${s.name} | ${s.state} | ${s.startedAt ?? ''} | ${s.durationMs !== undefined ? `${s.durationMs} ms` : ''} | ${s.attempts ?? ''} | ${detail.replace(/\|/g, '\\|')} |`,
      );
    }
  }
  const scaled = (steps ?? []).filter((s) => scaleOf(s));
  if (scaled.length) {
    out.push('', '## Kubernetes', '', '| step | site | service | replicas | HPA min–max |', '|---|---|---|---|---|');
    for (const s of scaled) {
      const k = scaleOf(s)!;
      k.applied.forEach((a, i) => {
        const b = k.previous[i];
        const hpa = b?.hpa
          ? `${b.hpa.minReplicas}–${b.hpa.maxReplicas} → ${a.minReplicas ?? b.hpa.minReplicas}–${Math.max(a.maxReplicas ?? b.hpa.maxReplicas, a.minReplicas ?? b.hpa.minReplicas)}`
          : '';
        out.push(`| ${s.name} | ${k.site} (${k.cluster}, ns ${k.namespace}) | ${a.service} | ${b?.replicas ?? '?'} → ${a.replicas} | ${hpa} |`);
      });
    }
  }
  out.push(...candidateSection(r.candidate as Candidate | undefined), ...replicasSection(r.replicas as Replica[] | undefined));
  const notes = r.notes as string[] | undefined;
  if (notes?.length) out.push('', '## Notes', '', ...notes.map((n) => `- ${n}`));
  const refused = r.refusedDecisions as Array<{ by: string; why: string; at: string }> | undefined;
  if (refused?.length) out.push('', '## Refused decisions', '', ...refused.map((d) => `- ${d.at} '${d.by}': ${d.why}`));
  const ops = r.operatorActions as Array<{ step: string; action: string; by: string; reason: string; at: string }> | undefined;
  if (ops?.length) out.push('', '## Operator actions', '', ...ops.map((a) => `- ${a.at} ${a.action} '${a.step}' by ${a.by}: ${a.reason}`));
  return out.join('\n') + '\n';
}

interface Candidate {
  chosen: string;
  chosenByRunbook: boolean;
  reason: string;
  considered: Array<{ site: string; count: number | null; lacks: number | null; why: string }>;
  peersAhead: Array<{ site: string; count: number; missing: string[] }>;
}

/** Three sites or more: which site was promoted and why, each site considered, and the peers it was caught up from. */
function candidateSection(c: Candidate | undefined): string[] {
  if (!c) return [];
  const out = ['', '## Candidate', '', `${c.chosen} (${c.chosenByRunbook ? 'chosen by the runbook' : 'named by the input'}): ${c.reason}`, ''];
  out.push('| site | transactions | lacks of the old primary | why |', '|---|---|---|---|');
  for (const s of c.considered) out.push(`| ${s.site} | ${s.count ?? ''} | ${s.lacks ?? ''} | ${s.why} |`);
  for (const p of c.peersAhead) out.push('', `- caught up from ${p.site} first: ${p.count} transaction(s) (${p.missing.join(', ')})`);
  return out;
}

interface Replica {
  site: string;
  outcome: string;
  source: string | null;
  lagSeconds: number | null;
  why: string;
}

/** Every other replica after the promotion: where it replicates from, its lag, or why it was left alone. */
function replicasSection(replicas: Replica[] | undefined): string[] {
  if (!replicas?.length) return [];
  const out = ['', '## Replicas', '', '| site | outcome | replicates from | lag | why |', '|---|---|---|---|---|'];
  for (const r of replicas)
    out.push(`| ${r.site} | ${r.outcome} | ${r.source ?? 'nothing'} | ${r.lagSeconds ?? ''} | ${r.why.replace(/\|/g, '\\|')} |`);
  return out;
}
