// What a drill is and what its report holds. Pure types and constants: safe inside the workflow sandbox, and
// the one shape the runbook, the report renderers and the benchmark agree on.

export const DRILL_SCENARIOS = ['power-loss', 'isolation', 'city-loss', 'switchover-round-trip'] as const;
export type DrillScenario = (typeof DRILL_SCENARIOS)[number];

export type DrillRecovery = 'runbook' | 'detection';

/** Where the drill's clients write; the application's schema must have it (see README, Config). */
export const DRILL_TABLE = 'trading.dr_drill';

export interface DrillInput {
  group: string;
  scenario: DrillScenario;
  /** The site the fault hits; default the group's writable server, as preflight finds it. */
  site?: string;
  requestedBy: string;
  reason: string;
  /** runbook (default): the drill starts the unplanned failover. detection: it waits for the estate to start one. */
  recovery?: DrillRecovery;
  /** Outside the window: an approver's override, with why. */
  windowOverride?: { by: string; reason: string };
}

/** The faults an injector knows. A scenario is one of them on one or more sites (city-loss: every site of the city). */
export type FaultKind = 'power-off' | 'isolate';

/** The drill's settings as the workflow sees them (no commands, no secrets). */
export interface DrillPlan {
  /** IANA time zone the windows and holidays are read in, e.g. Asia/Taipei. */
  timezone: string;
  /** Weekdays (sun..sat) and a local time range [start, end). An empty list: any time. */
  windows: Array<{ days: Weekday[]; start: string; end: string }>;
  /** Local dates (YYYY-MM-DD) on which no drill runs: market holidays. */
  holidays: string[];
  injector: 'command' | 'manual';
  stream: { ratePerSecond: number };
  /** How long the stream runs on after the failover, so the new primary's writes (and an old one's) are seen. */
  settleMs: number;
  /** A drill slower than the previous median RTO by more than this share is flagged as a regression. */
  regressionShare: number;
  /** Sites per city, for city-loss; a site in no city is a city of its own. */
  cities: Record<string, string[]>;
}

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** The RTO phases a drill reports, in order. */
export const DRILL_PHASES = ['detect', 'decide', 'fence', 'catch up', 'dns', 'promote', 'route'] as const;
export type DrillPhase = (typeof DRILL_PHASES)[number];

export type Verdict = 'pass' | 'fail' | 'not measured';

export interface Objective {
  name: 'RTO' | 'RPO (writes)' | 'RPO (files)' | 'split brain' | 'cleanup';
  target: string;
  measured: string;
  verdict: Verdict;
  note?: string;
}

/** One acknowledged (or refused) write of the drill's stream, as its client saw it. */
export interface StreamWrite {
  writer: string;
  seq: number;
  /** Epoch ms when the client got the answer. */
  at: number;
  /** The site whose server acknowledged it; null when it failed. */
  site: string | null;
  ok: boolean;
}

/** The stream bucketed for the chart: acknowledged and failed writes per writer per bucket. */
export interface StreamSeries {
  bucketMs: number;
  /** Epoch ms of bucket 0. */
  startAt: number;
  writers: Array<{
    writer: string;
    acked: number;
    failed: number;
    buckets: Array<{ acked: number; failed: number; sites: string[] }>;
  }>;
}

/** One bar of the timeline: a drill step, or a step of the child failover / failback. */
export interface TimelineBar {
  lane: 'drill' | 'failover' | 'failback';
  name: string;
  startAt: number;
  endAt: number;
  state: string;
}

export interface DriftItem {
  what: string;
  baseline: string;
  now: string;
}

export interface TrendPoint {
  workflowId: string;
  runId: string;
  endedAt: string;
  rtoMs: number | null;
  lostAckedWrites: number | null;
}

export type DrillVerdict = 'passed' | 'failed' | 'detection missed' | 'aborted' | 'refused';

export interface DrillMeasurement {
  injectedAt: number | null;
  promotedAt: number | null;
  /** The first write the stream saw acknowledged by the new primary. */
  firstGoodWriteAt: number | null;
  newPrimary: string | null;
  rtoMs: number | null;
  phases: Record<DrillPhase, number | null>;
  lostAckedWrites: number | null;
  /** Up to 50 of them, for the report. */
  lostWrites: StreamWrite[];
  /** Between the first and the last lost write. */
  lostSpanMs: number | null;
  lostGtids: number | null;
  lostGtidsNote: string;
  /** Age of the last good file sync of the faulted site at injection. */
  fileRpoMs: number | null;
  /** Why there is no file RPO: the site has no file sync, or it never synced (which fails the objective). */
  fileRpoNote?: 'no file sync configured' | 'never synced';
  /** Writes the old primary acknowledged after the new one was promoted. */
  splitBrainWrites: number | null;
  /** Longest gap between two acknowledged writes of the router client. */
  writeUnavailableMs: number | null;
}

/** Stored report, written from history. */
export interface DrillReportBody {
  scenario: DrillScenario;
  site: string;
  sites: string[];
  recovery: DrillRecovery;
  verdict: DrillVerdict;
  window: { inside: boolean; localTime: string; why: string; override: { by: string; reason: string } | null };
  measurement: DrillMeasurement;
  /** Each objective with its verdict (the report's `objectives` holds the targets themselves). */
  verdicts: Objective[];
  stream: StreamSeries | null;
  timeline: TimelineBar[];
  failover: { workflowId: string; outcome: string; rtoMs: number | null; files: { json: string; markdown: string } | null } | null;
  cleanup: {
    healed: string[];
    returned: boolean;
    failback: { workflowId: string; outcome: string; rtoMs: number | null; files: { json: string; markdown: string } | null } | null;
    schedules: string[];
    drift: DriftItem[];
    verdict: 'clean' | 'drift' | 'failed';
    errors: string[];
  };
  aborted: { by: string; reason: string; at: string; step: string } | null;
  trend: { points: TrendPoint[]; medianRtoMs: number | null; regression: boolean; why: string };
}

/** What the renderers need of a drill report (the runbook's report has these and more). */
export interface DrillReportLike extends DrillReportBody {
  runbook: 'drill';
  workflowId: string;
  runId: string;
  input: DrillInput;
  startedAt: string;
  endedAt: string;
  objectives: { rtoSeconds: number; rpoSeconds: number };
  steps: Array<{ name: string; state: string; startedAt?: string; endedAt?: string; durationMs?: number; error?: string }>;
  notes: string[];
}
