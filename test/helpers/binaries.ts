// The binaries tests run: the project's own (Temporal, rclone, moto) and the machine's BIND. A missing one
// fails the test with the fix, never a skip.
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { NAMED } from '../../lab/bind';
import { venvBin } from '../../lab/paths';

export function projectBinary(name: 'temporal' | 'temporal-test-server' | 'rclone' | 'moto_server'): string {
  const path = venvBin(name);
  if (!existsSync(path)) {
    throw new Error(`${path} is missing. Install the lab binaries with 'bash scripts/install.sh' (npm test runs it first).`);
  }
  return path;
}

/** BIND's server and client tools (Debian's bind9 and bind9-dnsutils). A missing one fails the test with the fix. */
export function bindBinaries(): { named: string; nsupdate: string; dig: string } {
  const onPath = (name: string) =>
    (process.env.PATH ?? '')
      .split(delimiter)
      .map((dir) => join(dir, name))
      .find((path) => existsSync(path));
  const found = { named: existsSync(NAMED) ? NAMED : undefined, nsupdate: onPath('nsupdate'), dig: onPath('dig') };
  const missing = Object.entries(found).flatMap(([name, path]) => (path ? [] : [name]));
  if (missing.length > 0) throw new Error(`${missing.join(', ')} missing. Install BIND 9 with 'apt-get install bind9 bind9-dnsutils'.`);
  return found as { named: string; nsupdate: string; dig: string };
}
