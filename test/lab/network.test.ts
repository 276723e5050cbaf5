// The three-centre lab's faults, for real: a site cut off while alive, and a site that loses power and
// gets it back. Every site is a network namespace; the host watches through management links.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { siteById } from '../../config/load';
import { resolveSecret } from '../../activities/secrets';
import type { Lab } from '../../lab';
import { appPasswordFile, dbName } from '../../lab/database';
import { powerOff, powerOn } from '../../lab/faults';
import { mysqlTree } from '../../lab/mysql-tree';
import { alive, readPid } from '../../lab/procs';
import { workerName } from '../../lab/services';
import { topology } from '../../lab/topology';
import { TEST_CONFIG, freshLab, tickSeqs, waitUntil } from '../helpers/lab';

let lab: Lab;

before(async () => {
  lab = await freshLab(); // tw primary, every link up
  assert.equal(lab.network.whyNot(), null, 'the test lab runs every site in a network namespace of its own');
});

after(() => {
  lab.network.heal();
});

/** A TCP connection from inside one site to a port of another: true when it opens, false on silence. */
function connects(from: string, to: string, port: number): boolean {
  const host = lab.network.place(to).host;
  const r = spawnSync('ip', ['netns', 'exec', lab.network.nsName(from), 'timeout', '2', 'bash', '-c', `exec 3<>/dev/tcp/${host}/${port}`]);
  return r.status === 0;
}

/** A write by a client inside the site, as an application server there would make it. */
function localWrite(site: string, seq: number): void {
  const s = siteById(lab.loaded, site);
  const password = resolveSecret('file:' + appPasswordFile(lab.loaded), lab.loaded.baseDir);
  execFileSync(
    'ip',
    [
      'netns',
      'exec',
      lab.network.nsName(site),
      `${mysqlTree().bin}/mysql`,
      '--no-defaults',
      `-h${s.mysql.host}`,
      `-P${s.mysql.port}`,
      '-uapp',
      `-p${password}`,
      '-e',
      `INSERT INTO trading.ticks (seq, writer) VALUES (${seq}, 'inside-${site}')`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 },
  );
}

test('four namespaces, every site reaches every other', async () => {
  const r = await lab.network.reachability();
  assert.deepEqual(r.sites, ['tw', 'tw2', 'sg', 'ops']);
  assert.deepEqual(
    r.links.filter((l) => !l.reachable),
    [],
  );
});

test('lab status: tw → tw2 semi-sync, tw → sg async, and the reachability matrix; a fault on an unknown site exits 2', async () => {
  const t = await topology(lab.loaded, lab.dirs);
  assert.deepEqual(t.writable, ['tw']);
  assert.deepEqual(
    t.links.map((l) => `${l.source} → ${l.replica} ${l.mode}`),
    ['tw → tw2 semi-sync', 'tw → sg async'],
  );
  const status = spawnSync(process.execPath, ['--import', 'tsx', 'lab/cli.ts', 'status', '--config', TEST_CONFIG], { encoding: 'utf8' });
  assert.match(status.stdout, /tw → tw2\s+semi-sync\s+IO yes SQL yes/);
  assert.match(status.stdout, /tw → sg\s+async\s+IO yes SQL yes/);
  assert.match(status.stdout, /reachability \(row reaches column\)\n\s+tw\s+tw2\s+sg\s+ops/);
  const bad = spawnSync(process.execPath, ['--import', 'tsx', 'lab/cli.ts', 'isolate', 'hk', '--config', TEST_CONFIG], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr.trim(), "unknown site 'hk' (lab sites: tw, tw2, sg, ops)");
});

test('isolation is real: tw keeps taking writes from inside, nobody outside reaches it; heal restores every link', async () => {
  const db = siteById(lab.loaded, 'tw').mysql.port;
  assert.ok(connects('sg', 'tw', db), 'before the cut sg reaches the tw database');
  assert.deepEqual(lab.network.isolate('tw'), ['tw ✂ tw2', 'tw ✂ sg', 'tw ✂ ops']);
  try {
    const r = await lab.network.reachability();
    for (const other of ['tw2', 'sg', 'ops']) {
      assert.equal(r.links.find((l) => l.from === other && l.to === 'tw')!.reachable, false, `${other} → tw is cut`);
      assert.equal(r.links.find((l) => l.from === 'tw' && l.to === other)!.reachable, false, `tw → ${other} is cut`);
    }
    assert.equal(r.links.find((l) => l.from === 'sg' && l.to === 'ops')!.reachable, true, 'the rest of the WAN is untouched');
    assert.equal(connects('sg', 'tw', db), false, 'sg cannot open a connection to the tw database');
    assert.equal(connects('ops', 'tw', db), false, 'ops cannot either');
    // The dangerous case: an isolated primary that still takes writes from its own side.
    localWrite('tw', 9_000_001);
    assert.ok((await tickSeqs(lab.loaded, 'tw')).has(9_000_001), 'the write inside tw is committed on tw');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await tickSeqs(lab.loaded, 'sg')).has(9_000_001), false, 'sg never got it: its link is cut');
  } finally {
    assert.deepEqual(lab.network.heal(), ['tw ↔ tw2', 'tw ↔ sg', 'tw ↔ ops']);
  }
  const healed = await lab.network.reachability();
  assert.deepEqual(
    healed.links.filter((l) => !l.reachable),
    [],
  );
  // Replication finds its way back by itself once the link carries frames again.
  await waitUntil('sg has the write tw took while cut off', async () => (await tickSeqs(lab.loaded, 'sg')).has(9_000_001), 120_000);
});

test('a partial partition: tw cut off from sg only still reaches tw2 and ops', async () => {
  assert.deepEqual(lab.network.isolate('tw', 'sg'), ['tw ✂ sg']);
  try {
    const r = await lab.network.reachability();
    const reach = (a: string, b: string) => r.links.find((l) => l.from === a && l.to === b)!.reachable;
    assert.equal(reach('tw', 'sg'), false);
    assert.equal(reach('sg', 'tw'), false);
    assert.equal(reach('tw', 'tw2'), true);
    assert.equal(reach('tw', 'ops'), true);
    assert.equal(reach('sg', 'tw2'), true);
  } finally {
    lab.network.heal('tw');
  }
});

test('bad fault input names the site and the choices', () => {
  assert.throws(() => lab.network.isolate('hk'), /unknown site 'hk' \(lab sites: tw, tw2, sg, ops\)/);
  assert.throws(() => lab.network.isolate('tw', 'tw'), /--from tw is the site being isolated/);
});

test('power-off kills every process of tw2 at once; power-on restarts them on their data and replication resumes', async () => {
  const tw2 = lab.sites.find((s) => s.id === 'tw2')!;
  const [line] = await powerOff(lab, 'tw2');
  assert.match(line!, /^tw2: \d+ processes killed$/);
  assert.equal(execFileSync('ip', ['netns', 'pids', lab.network.nsName('tw2')], { encoding: 'utf8' }).trim(), '', 'nothing runs in tw2');
  assert.equal(alive(readPid(lab.dirs.pids, dbName(tw2))), false);
  assert.equal(alive(readPid(lab.dirs.pids, workerName('tw2'))), false);
  const before = (await tickSeqs(lab.loaded, 'tw')).size;
  localWrite('tw', 9_000_002);
  const out = await powerOn(lab, 'tw2');
  assert.ok(
    out.some((l) => l.startsWith(`tw2: ${dbName(tw2)} started`)),
    out.join('\n'),
  );
  assert.ok(alive(readPid(lab.dirs.pids, workerName('tw2'))));
  await waitUntil('tw2 caught up after its power came back', async () => (await tickSeqs(lab.loaded, 'tw2')).has(9_000_002), 60_000);
  assert.ok((await tickSeqs(lab.loaded, 'tw2')).size >= before + 1);
});
