// The drill report's one stylesheet, inline in the page: system fonts only, so nothing is fetched.
export const DRILL_REPORT_CSS = `
:root { --ink: #1f2933; --muted: #6b7785; --line: #e4e8ee; --good: #2f9e66; --bad: #d64545; --warn: #d98a1c; --neutral: #7b8794; }
* { box-sizing: border-box; }
body { margin: 0; background: #eef1f5; color: var(--ink); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; }
main { max-width: 1200px; margin: 0 auto; padding: 24px 28px 40px; }
header, section { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 20px 24px; margin-bottom: 18px; }
h1 { margin: 2px 0 0; font-size: 28px; letter-spacing: -0.01em; }
h3 { margin: 18px 0 6px; font-size: 14px; }
h2 { margin: 0 0 14px; font-size: 18px; border-bottom: 1px solid var(--line); padding-bottom: 8px; }
.kicker { margin: 0; color: var(--muted); font-size: 13px; text-transform: uppercase; letter-spacing: 0.06em; }
.heading { display: flex; justify-content: space-between; align-items: center; gap: 20px; margin-bottom: 16px; }
.verdict { font-size: 30px; font-weight: 700; text-transform: uppercase; letter-spacing: 0.04em; color: #fff; }
.verdict { padding: 10px 26px; border-radius: 8px; white-space: nowrap; }
.verdict.good { background: var(--good); } .verdict.bad { background: var(--bad); }
.verdict.warn { background: var(--warn); } .verdict.neutral { background: var(--neutral); }
dl.facts { display: grid; grid-template-columns: 160px 1fr; gap: 5px 16px; margin: 0; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.abort { margin-top: 14px; padding: 10px 14px; border-left: 4px solid var(--warn); background: #fdf6ea; }
.figures { display: grid; grid-template-columns: repeat(5, 1fr); gap: 12px; margin-bottom: 18px; }
.figure { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 12px 16px; }
.figure-name { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: 0.05em; }
.figure-value { font-size: 24px; font-weight: 700; margin: 2px 0; }
.figure-note { color: var(--muted); font-size: 12px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th { text-align: left; color: var(--muted); font-weight: 600; border-bottom: 2px solid var(--line); padding: 6px 10px; }
td { border-bottom: 1px solid var(--line); padding: 6px 10px; vertical-align: top; overflow-wrap: anywhere; }
.narrow { max-width: 420px; margin-top: 10px; }
.pill { display: inline-block; min-width: 64px; text-align: center; padding: 2px 10px; border-radius: 999px; }
.pill { font-weight: 600; font-size: 12px; color: #fff; }
.pill.pass { background: var(--good); } .pill.fail { background: var(--bad); } .pill.unmeasured { background: #a9b3bf; }
.state.failed { color: var(--bad); font-weight: 600; } .state.skipped { color: var(--muted); }
.note, .empty { color: var(--muted); margin: 8px 0; }
.good-text { color: var(--good); font-weight: 600; }
.regression { background: #fdecec; border-left: 4px solid var(--bad); padding: 8px 12px; margin: 0 0 10px; }
.errors { margin-top: 12px; padding: 8px 12px; background: #fdecec; border-left: 4px solid var(--bad); }
details { margin-top: 8px; } summary { cursor: pointer; color: var(--muted); }
footer { color: var(--muted); font-size: 12px; text-align: center; }
svg { display: block; font-family: inherit; margin: 4px 0; }
svg text { fill: var(--ink); font-size: 12px; }
svg .tick, svg .caption, svg .duration { fill: var(--muted); font-size: 11px; }
svg .lane { font-weight: 700; font-size: 13px; }
svg .step { font-size: 12px; }
svg .marker { font-size: 12px; font-weight: 600; }
svg .site { fill: #fff; font-size: 10px; font-weight: 700; }
svg .gap { fill: var(--bad); font-size: 12px; }
svg .gap-figure { fill: var(--bad); font-size: 18px; font-weight: 700; }
svg .on-bar { fill: #fff; font-weight: 600; }
svg .legend { font-size: 12px; }
svg .value { fill: var(--muted); font-size: 11px; } svg .value-current { font-weight: 700; font-size: 12px; }
svg .lost { fill: var(--bad); font-weight: 700; }
svg .level { font-size: 11px; font-weight: 600; }
/* A halo in the background colour keeps a label readable where a marker or level line crosses it. */
svg .duration, svg .gap, svg .gap-figure, svg .value, svg .value-current, svg .marker {
  paint-order: stroke; stroke: #fff; stroke-width: 3px; stroke-linejoin: round;
}
svg .flag { fill: #fff; font-weight: 700; font-size: 13px; letter-spacing: 0.06em; }
@media print { body { background: #fff; } header, section, .figure { border-color: #ccc; break-inside: avoid; } }
`;
