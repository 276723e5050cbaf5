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
