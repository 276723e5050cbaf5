// What every benchmark shares: percentiles of a series, and the JSON it prints (and writes to --json FILE).
import { writeFileSync } from 'node:fs';

export function stats(xs: number[]): { p50: number | null; p95: number | null; max: number | null; n: number } {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)] ?? null;
  return { p50: q(0.5), p95: q(0.95), max: s.at(-1) ?? null, n: s.length };
}

export function printResult(out: unknown, file: string | undefined): void {
  const json = JSON.stringify(out, null, 2);
  if (file) writeFileSync(file, json);
  console.log(json);
}

/** `--scenario a,b` checked against the bench's own list; a wrong one exits 2 naming the flag and the choices. */
export function scenariosOf<S extends string>(arg: string, known: readonly S[]): S[] {
  const picked = arg.split(',') as S[];
  for (const s of picked) {
    if (!known.includes(s)) {
      console.error(`--scenario: unknown scenario '${s}' (one or more of ${known.join(', ')}, comma-separated)`);
      process.exit(2);
    }
  }
  return picked;
}

/** `--runs N`: a whole number of at least 1, or exit 2. */
export function runsOf(arg: string): number {
  const runs = Number(arg);
  if (!(Number.isInteger(runs) && runs >= 1)) {
    console.error(`--runs: must be a whole number of at least 1, not '${arg}'`);
    process.exit(2);
  }
  return runs;
}

/**
 * The worst file RPO a schedule every `intervalS` gives when each run takes `runS` (overlap SKIP): a change
 * made just after a run started is in the copy when the next run ends. A run longer than the interval skips
 * the ticks it overlaps, so runs start every ceil(run / interval) intervals.
 */
export function fileRpoSeconds(runS: number, intervalS: number): number {
  return Math.max(1, Math.ceil(runS / intervalS)) * intervalS + runS;
}

export interface SizePoint {
  files: number;
  seconds: number;
}

/**
 * The file count at which a run would take `budgetS`: a straight line through two sizes (the last two given),
 * or through the origin with one. Null when the time does not grow with the count.
 */
export function filesWithin(points: SizePoint[], budgetS: number): { files: number | null; model: string } {
  const sorted = [...points].sort((a, b) => a.files - b.files);
  const hi = sorted.at(-1);
  if (!hi) return { files: null, model: 'no measurement' };
  const lo = sorted.length > 1 && sorted[0]!.files < hi.files ? sorted[0]! : { files: 0, seconds: 0 };
  const perFile = (hi.seconds - lo.seconds) / (hi.files - lo.files);
  if (!(perFile > 0)) return { files: null, model: `no growth between ${lo.files} and ${hi.files} files` };
  const fixed = hi.seconds - perFile * hi.files;
  const files = Math.floor((budgetS - fixed) / perFile);
  return { files, model: `seconds = ${fixed.toFixed(2)} + ${(perFile * 1e6).toFixed(2)} µs × files (through ${lo.files} and ${hi.files} files)` };
}
