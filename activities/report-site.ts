// The site failover's own sections of its Markdown report: every group, as the gate saw it and as it ended.
export interface SiteLike {
  to: string | null;
  startedAt: string;
  assessed: Array<{
    group: string;
    included: boolean;
    why: string;
    best: string | null;
    lagSeconds: number | null;
    gap: number | null;
    lossOverBudget: boolean;
  }>;
  groups: Array<{
    group: string;
    outcome: string;
    rtoMs: number | null;
    startedAt: string | null;
    lost: number | null;
    error?: string;
    files?: { markdown: string } | null;
  }>;
}

export function siteMarkdown(r: SiteLike): string[] {
  const out = [
    '',
    '## Groups',
    '',
    '| group | at the gate | candidate | lag | GTID gap | outcome | RTO from the site run’s start | lost | report |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  const start = Date.parse(r.startedAt);
  for (const a of r.assessed) {
    const g = r.groups.find((x) => x.group === a.group);
    const rto = g?.rtoMs != null && g.startedAt ? `${((Date.parse(g.startedAt) + g.rtoMs - start) / 1000).toFixed(2)} s` : '';
    const outcome = g ? `${g.outcome}${g.error ? `: ${g.error}` : ''}` : `left alone: ${a.why}`;
    out.push(
      `| ${a.group} | ${a.included ? a.why : 'not included'}${a.lossOverBudget ? ' (over the RPO budget)' : ''} | ${a.best ?? ''} | ${a.lagSeconds ?? ''} | ${a.gap ?? ''} | ${outcome.replace(/\|/g, '\\|')} | ${rto} | ${g?.lost ?? ''} | ${g?.files?.markdown ?? ''} |`,
    );
  }
  return out;
}
