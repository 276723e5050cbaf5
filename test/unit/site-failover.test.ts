// A site failover's pure parts: one target for every group, and a site as a group with servers of its own sees it.
import test from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { readFileSync } from 'node:fs';
import { commonTarget, type GroupChoice } from '../../domain/site-target';
import { groupView, parseConfig, siteInGroup } from '../../config/load';
import { planOf } from '../../config/plan';
import { siteMarkdown } from '../../activities/report-site';

const order = ['tw', 'tw2', 'sg'];
const choice = (group: string, best: string | null, usable = ['tw2', 'sg']): GroupChoice => ({ group, best, usable, order });

test('the target is the site most groups would choose; the others are flagged, not split off', () => {
  const t = commonTarget([choice('orders', 'tw2'), choice('accounts', 'tw2'), choice('positions', 'sg')]);
  assert.equal(t.to, 'tw2');
  assert.deepEqual(
    t.flagged.map((f) => [f.group, f.best]),
    [['positions', 'sg']],
  );
  assert.deepEqual(t.excluded, []);
  assert.match(t.reason, /tw2, the best candidate of 2 of 3 group/);
});

test('a tie goes to the site order; a group with no promotable replica at the target is left out', () => {
  const t = commonTarget([choice('orders', 'sg'), choice('accounts', 'tw2'), choice('positions', null, [])]);
  assert.equal(t.to, 'tw2');
  assert.deepEqual(
    t.excluded.map((x) => x.group),
    ['positions'],
  );
  assert.deepEqual(
    t.flagged.map((f) => f.group),
    ['orders'],
  );
});

test('a named target is kept, whatever the groups would choose, and flags nothing: it is the operator’s choice', () => {
  const t = commonTarget([choice('orders', 'tw2'), choice('accounts', 'tw2', ['tw2'])], 'sg');
  assert.equal(t.to, 'sg');
  assert.deepEqual(
    t.excluded.map((x) => x.group),
    ['accounts'],
  );
  assert.deepEqual(t.flagged, []);
  assert.equal(commonTarget([choice('orders', null, [])]).to, null);
});

test("a group with servers of its own sees each site's server and hostgroups, and no HAProxy; the plan says it has its own", () => {
  const file = join(__dirname, '..', '..', 'config', 'lab-test.yaml');
  const doc = parseDocument(readFileSync(file, 'utf8'));
  doc.addIn(['groups'], {
    id: 'positions',
    sites: ['tw', 'tw2', 'sg'],
    databases: { tw: { host: '198.18.1.1', port: 24171 }, tw2: { host: '198.18.1.2', port: 24173 }, sg: { host: '198.18.1.3', port: 24172 } },
    proxysql: { writerHostgroup: 11, readerHostgroup: 21 },
  });
  const loaded = parseConfig(doc.toString(), file);
  const tw = loaded.config.sites[0]!;
  const seen = siteInGroup(loaded.config, tw, 'positions');
  assert.deepEqual([seen.mysql.host, seen.mysql.port, seen.mysql.user], ['198.18.1.1', 24171, tw.mysql.user]);
  assert.deepEqual([seen.proxysql?.writerHostgroup, seen.proxysql?.readerHostgroup, seen.proxysql?.port], [11, 21, tw.proxysql?.port]);
  assert.equal(seen.haproxy, undefined);
  assert.equal(siteInGroup(loaded.config, tw, 'trading'), tw);
  assert.equal(groupView(loaded, 'trading'), loaded);
  assert.deepEqual(
    groupView(loaded, 'positions').config.sites.map((s) => s.mysql.port),
    [24171, 24173, 24172],
  );
  const plan = planOf(loaded);
  assert.deepEqual(
    plan.groups.map((g) => [g.id, g.ownDatabases]),
    [
      ['trading', false],
      ['positions', true],
    ],
  );
  assert.deepEqual(plan.siteFailover, { concurrency: 16 });
});

test('the report has a row per group: at the gate, outcome, RTO from the site run’s start; a group left alone says why', () => {
  const lines = siteMarkdown({
    to: 'sg',
    startedAt: '2026-12-01T00:00:00.000Z',
    assessed: [
      { group: 'orders', included: true, why: 'its primary is in tw', best: 'tw2', lagSeconds: 0, gap: 0, lossOverBudget: false },
      { group: 'reports', included: false, why: 'its primary is in sg', best: null, lagSeconds: null, gap: null, lossOverBudget: false },
    ],
    groups: [
      {
        group: 'orders',
        outcome: 'completed',
        rtoMs: 3000,
        startedAt: '2026-12-01T00:00:01.500Z',
        lost: 0,
        files: { markdown: 'failover-orders.md' },
      },
    ],
  });
  assert.match(lines.join('\n'), /\| orders \| its primary is in tw \| tw2 \| 0 \| 0 \| completed \| 4\.50 s \| 0 \| failover-orders\.md \|/);
  assert.match(lines.join('\n'), /\| reports \| not included \|.*\| left alone: its primary is in sg \|/);
});
