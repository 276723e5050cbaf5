// The project's own Temporal binaries. A missing one fails the test with the fix, never a skip.
import { existsSync } from 'node:fs';
import { venvBin } from '../../lab/paths';

export function projectBinary(name: 'temporal' | 'temporal-test-server' | 'rclone' | 'moto_server'): string {
  const path = venvBin(name);
  if (!existsSync(path)) {
    throw new Error(`${path} is missing. Install the lab binaries with 'bash scripts/install.sh' (npm test runs it first).`);
  }
  return path;
}
