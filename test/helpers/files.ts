// File trees for the sync tests: generate, change, and list (path → size and MD5) either side.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** `count` files in folders of 100, with contents that differ per file and per `seed`. */
export function generateTree(root: string, count: number, opts: { seed?: string; size?: (i: number) => number; dir?: string } = {}): string[] {
  const made: string[] = [];
  for (let i = 0; i < count; i++) {
    const rel = join(opts.dir ?? '', `d${String(Math.floor(i / 100)).padStart(3, '0')}`, `f${String(i).padStart(6, '0')}.dat`);
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), content(`${opts.seed ?? 's'}-${i}`, opts.size?.(i) ?? 64 + (i % 500)));
    made.push(rel);
  }
  return made;
}

export function content(seed: string, size: number): Buffer {
  // Large files only need to differ: random bytes are much faster than a hash chain.
  if (size > 65536) return randomBytes(size);
  const out = Buffer.alloc(size);
  let block = createHash('sha256').update(seed).digest();
  for (let o = 0; o < size; o += block.length) {
    block.copy(out, o);
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

/** path (relative, '/'-separated) → `size:md5` for every file under root, skipping top-level folders in `skip`. */
export function listTree(root: string, skip: string[] = []): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, e.name);
      if (e.isDirectory()) {
        if (dir === root && skip.includes(e.name)) continue;
        walk(full);
      } else if (e.isFile()) {
        const data = readFileSync(full);
        out.set(relative(root, full).split('\\').join('/'), `${data.length}:${createHash('md5').update(data).digest('hex')}`);
      }
    }
  };
  try {
    statSync(root);
  } catch {
    return out;
  }
  walk(root);
  return out;
}

/**
 * How many finished files lie under root, by name only. It is safe to call while rclone writes there:
 * upload temp files are not counted, and a file or folder that vanishes mid-walk is not an error.
 */
export function countFiles(root: string): number {
  let n = 0;
  const walk = (dir: string) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const e of entries) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (e.isFile() && !e.name.startsWith('.rclone_temp')) n++;
    }
  };
  walk(root);
  return n;
}

/** The differences between two listings, for an assertion message that says what is wrong. */
export function diffTrees(a: Map<string, string>, b: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [k, v] of a)
    if (!b.has(k)) out.push(`only in source: ${k}`);
    else if (b.get(k) !== v) out.push(`differs: ${k}`);
  for (const k of b.keys()) if (!a.has(k)) out.push(`only in copy: ${k}`);
  return out;
}

export function removeAll(root: string): void {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
}
