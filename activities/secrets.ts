// Secret references are resolved here, inside activities, so workflow histories only ever hold the reference.
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';

export class SecretError extends Error {
  override name = 'SecretError';
}

/** Resolves `env:NAME` or `file:path` (relative to baseDir). The message names the reference, never the value. */
export function resolveSecret(ref: string, baseDir: string): string {
  if (ref.startsWith('env:')) {
    const name = ref.slice(4);
    const value = process.env[name];
    if (value === undefined || value === '') throw new SecretError(`secret ${ref}: environment variable ${name} is not set`);
    return value;
  }
  if (ref.startsWith('file:')) {
    const path = ref.slice(5);
    const full = isAbsolute(path) ? path : resolve(baseDir, path);
    try {
      return readFileSync(full, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new SecretError(`secret ${ref}: cannot read ${full}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  throw new SecretError(`'${ref.slice(0, 8)}…' is not a secret reference (env:NAME or file:path)`);
}
