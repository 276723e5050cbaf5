// Where the lab keeps things. Everything is under the project and git-ignored.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { LoadedConfig } from '../config/load';
import { labOf } from './settings';

export const ROOT = resolve(__dirname, '..');
export const VENV_BIN = join(ROOT, '.venv', 'bin');
export const venvBin = (name: string): string => join(VENV_BIN, name);

export interface LabDirs {
  state: string;
  pids: string;
  logs: string;
  data: string;
  secrets: string;
  run: string;
}

export function labDirs(loaded: LoadedConfig): LabDirs {
  labOf(loaded); // a lab config, or a clear error naming x-lab
  const state = resolve(loaded.baseDir, loaded.config.stateDir);
  const dirs = {
    state,
    pids: join(state, 'pids'),
    logs: join(state, 'logs'),
    data: join(state, 'data'),
    secrets: join(state, 'secrets'),
    run: join(state, 'run'),
  };
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  return dirs;
}
