// A site fails, not a database: the site failover on the real lab with four more groups (lab groups 4: a
// MariaDB per site each, the last with a ProxySQL of its own in each site), beside the lab's own group (MySQL
// in the MySQL tier: one site failover moves both dialects).
// A planned switchover under load on every group, a power loss with one group that cannot catch up, and one
// group's ProxySQL down before its point of no return.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import { groupView, loadConfig, siteById, type LoadedConfig } from '../../config/load';
import { controlTaskQueue, siteFailoverWorkflowId } from '../../domain/runs';
import type { SiteFailoverInput, SiteFailoverReport } from '../../workflows/site-failover';
import type { FailoverReport } from '../../workflows/failover';
import { Lab } from '../../lab';
import { groupsConfigFile, labGroupId } from '../../lab/groups';
import { saveHistory } from '../helpers/histories';
import { powerOff } from '../../lab/faults';
import { proxysqlName } from '../../lab/proxysql';
import { LoadGenerator, SplitBrainWatch } from '../../lab/load';
import {
  TEST_CONFIG,
  direct,
  executedGtids,
  labClient,
  printEvidence,
  query1,
  replicaDelay,
  replicaStatus,
  testLab,
  tickSeqs,
  waitUntil,
  writerOf,
} from '../helpers/lab';

const GROUPS = 4;
let lab: Lab;
let loaded: LoadedConfig;
let client: Client;
let close: () => Promise<void>;
let ids: string[];

before(async () => {
  // A catch-up bound of 8 s: the group that cannot catch up gives up within the test.
  const file = groupsConfigFile(TEST_CONFIG, GROUPS, (doc) => doc.setIn(['timeouts', 'catchUp'], '8s'));
  loaded = loadConfig(file);
  lab = new Lab(loaded, () => {});
  ids = loaded.config.groups.map((g) => g.id);
  await lab.renew();
  ({ client, close } = await labClient(loaded));
});

after(async () => {
  await close?.();
  // The next suite's lab has no such groups: their servers go, and the lab is renewed as it was.
  await lab.stopGroupServers();
  await testLab().renew();
});

const view = (group: string) => groupView(loaded, group);

async function readOnly(group: string, site: string): Promise<boolean> {
  const c = await direct(view(group), site);
  try {
    return Number(await query1(c, 'SELECT @@global.read_only')) === 1;
  } finally {
    await c.end();
  }
}

/** `fixture`: the run's history is kept for the replay test (test/fixtures/histories). */
async function siteFailover(input: Omit<SiteFailoverInput, 'reason' | 'requestedBy'>, fixture?: string): Promise<SiteFailoverReport> {
  const workflowId = siteFailoverWorkflowId(input.site);
  try {
    const handle = await client.workflow.start('siteFailover', {
      taskQueue: controlTaskQueue,
      workflowId,
      args: [{ ...input, reason: 'site failover test', requestedBy: 'ops-lead' }],
    });
    const report = (await handle.result()) as SiteFailoverReport;
    if (fixture) await saveHistory(fixture, handle);
    return report;
  } catch (err) {
    await printEvidence(lab, client, [workflowId, ...ids.map((g) => `failover-${g}`)], ['worker-control']);
    throw err;
  }
}

test('planned site switchover tw → sg under load on every group: one gate, one DNS change, no acknowledged write lost, never two writable in any group', async () => {
  const loads = ids.map((g) => new LoadGenerator(view(g), { ratePerSecond: 40, writer: `site-${g}` }));
  const watches = ids.map((g) => new SplitBrainWatch(view(g), 50));
  for (const x of [...loads, ...watches]) x.start();
  let report: SiteFailoverReport;
  const t0 = Date.now();
  const phases: Record<string, number> = {};
  try {
    await waitUntil('load running on every group', async () => loads.every((l) => l.acked.length >= 40));
    phases.loadMs = Date.now() - t0;
    report = await siteFailover({ site: 'tw', to: 'sg', mode: 'planned' }, 'site-failover-planned');
    phases.siteFailoverMs = Date.now() - t0 - phases.loadMs;
    const seen = loads.map((l) => l.acked.length);
    await waitUntil('writes flowing to sg in every group', async () =>
      loads.every((l, i) => l.acked.length >= seen[i]! + 20 && l.acked.at(-1)!.port === siteById(view(ids[i]!), 'sg').mysql.port),
    );
    phases.flowingMs = Date.now() - t0 - phases.loadMs - phases.siteFailoverMs;
    console.log(JSON.stringify({ phases, rtoMs: report.rtoMs, groups: report.groups.map((g) => [g.group, g.rtoMs]) }));
  } finally {
    await Promise.all(loads.map((l) => l.stop()));
  }
  const splits = await Promise.all(watches.map((w) => w.stop()));
  assert.equal(report!.outcome, 'completed', report!.error);
  assert.equal(report!.to, 'sg');
  assert.deepEqual(
    report!.groups.map((g) => [g.group, g.outcome, g.lost]),
    ids.map((g) => [g, 'completed', 0]),
  );
  for (const [i, g] of ids.entries()) {
    const summary = await loads[i]!.stop();
    const onSg = await tickSeqs(view(g), 'sg');
    const missing = summary.acked.filter((a) => !onSg.has(a.seq));
    assert.deepEqual(missing, [], `${g}: ${missing.length} acknowledged writes are not on sg`);
    assert.ok(splits[i]!.samples > 20, `${g}: the split-brain watch took ${splits[i]!.samples} samples`);
    assert.deepEqual(splits[i]!.violations, [], `${g}: two writable servers were seen`);
    assert.deepEqual([await readOnly(g, 'tw'), await readOnly(g, 'sg')], [true, false], g);
  }
  // One gate, for every group; the children took its decision and skipped what the site run did once.
  assert.equal(report!.approval?.decision, 'approved');
  const child = JSON.parse(readFileSync(report!.groups.find((g) => g.group === labGroupId(1))!.files!.json, 'utf8')) as FailoverReport;
  for (const step of ['dns', 'pause file sync', 'notify'])
    assert.match(
      String(child.steps.find((s) => s.name === step)?.detail?.skipped),
      /done once for every group by the site failover site-failover-tw/,
      step,
    );
  assert.equal(report!.steps.filter((s) => s.name === 'dns' && s.state === 'done').length, 1);
  assert.deepEqual(await writerOf(view(labGroupId(GROUPS)), 'tw'), [siteById(view(labGroupId(GROUPS)), 'sg').mysql.port]);
});

test('power loss of tw: every group goes to the same site; the group whose candidate cannot catch up is undone and named, the others complete', async () => {
  await lab.renew();
  const stuck = labGroupId(2);
  const candidate = await direct(view(stuck), 'tw2');
  try {
    // tw2 receives but does not apply: its catch-up cannot end within the 8 s bound.
    await replicaDelay(candidate, 3600);
    const primary = await direct(view(stuck), 'tw');
    await primary.query("INSERT INTO trading.orders (account_id, symbol, side, qty, price) VALUES (1, '2330.TW', 'buy', 1, 600)");
    const written = await executedGtids(primary);
    await primary.end();
    await waitUntil('tw2 received it', async () => (await replicaStatus(candidate))?.retrievedGtids === written);
    await powerOff(lab, 'tw');
    const report = await siteFailover({ site: 'tw', mode: 'unplanned' });
    assert.equal(report.to, 'tw2', report.error);
    assert.equal(report.outcome, 'completed-with-failures');
    const outcomes = Object.fromEntries(report.groups.map((g) => [g.group, g.outcome]));
    assert.deepEqual(outcomes, Object.fromEntries(ids.map((g) => [g, g === stuck ? 'compensated' : 'completed'])));
    assert.match(report.error ?? '', new RegExp(`1 of ${ids.length} group\\(s\\) did not fail over: ${stuck}: compensated`));
    for (const g of ids) assert.equal(await readOnly(g, 'tw2'), g === stuck, `${g} on tw2`);
    assert.equal(await readOnly(stuck, 'sg'), true, 'nothing else took the stuck group over');
  } finally {
    await replicaDelay(candidate, 0).catch(() => undefined);
    await candidate.end();
  }
});

test("one group's ProxySQL down before its point of no return: only that group is undone, the others switch over", async () => {
  await lab.renew();
  const own = labGroupId(GROUPS); // the group with a ProxySQL of its own in each site
  await lab.stopComponent(proxysqlName(siteById(view(own), 'sg'), own), 'SIGKILL');
  const report = await siteFailover({ site: 'tw', to: 'sg', mode: 'planned' });
  assert.equal(report.outcome, 'completed-with-failures');
  const failed = report.groups.find((g) => g.group === own)!;
  assert.equal(failed.outcome, 'compensated');
  assert.match(failed.error ?? '', /ProxySQL: sg: .*/);
  assert.equal(failed.pointOfNoReturn, false);
  for (const g of ids.filter((x) => x !== own)) assert.deepEqual([await readOnly(g, 'tw'), await readOnly(g, 'sg')], [true, false], g);
  // Undone: tw writable again, sg still its replica, tw's ProxySQL still sending the group's writes to tw.
  assert.deepEqual([await readOnly(own, 'tw'), await readOnly(own, 'sg')], [false, true]);
  assert.deepEqual(await writerOf(view(own), 'tw'), [siteById(view(own), 'tw').mysql.port]);
  // The shared DNS change stays: the other groups are in sg now.
  assert.equal(report.steps.find((s) => s.name === 'dns')?.state, 'done');
});
