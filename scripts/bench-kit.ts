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
