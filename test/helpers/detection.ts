// The detection tests run the test lab with detection switched on: a copy of its config with
// detection.enabled: true, next to it so that its relative paths still hold.
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseDocument } from 'yaml';
import { TEST_CONFIG } from './lab';

export function detectionConfigFile(base = TEST_CONFIG): string {
  const doc = parseDocument(readFileSync(base, 'utf8'));
  doc.setIn(['detection', 'enabled'], true);
  const file = join(dirname(base), `.detect-${basename(base)}`);
  writeFileSync(file, doc.toString());
  return file;
}
