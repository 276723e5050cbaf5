// Histories of real runs, saved as replay fixtures when DR_SAVE_HISTORIES=1 (see test/replay.test.ts).
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

export const HISTORIES = join(__dirname, '..', 'fixtures', 'histories');

export async function saveHistory(name: string, handle: WorkflowHandle): Promise<void> {
  if (process.env.DR_SAVE_HISTORIES !== '1') return;
  mkdirSync(HISTORIES, { recursive: true });
  const history = await handle.fetchHistory();
  // Binary protobuf: exact, and independent of which protobufjs copy decoded it.
  writeFileSync(join(HISTORIES, `${name}.history.pb`), temporal.api.history.v1.History.encode(history).finish());
}
