// BIND 9 as the DNS provider that proves the flip, on the time-skipping server with this process's workers:
// a primary in ops and a secondary in each site (real named, in the lab's namespaces), changed by TSIG-signed
// RFC 2136 updates. The databases, routers and clusters are the lab's own; only Temporal's clock is skipped.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import '../helpers/quiet';
import type { LoadedConfig } from '../../config/load';
import type { FailoverReport } from '../../workflows/failover';
import { controlTaskQueue } from '../../domain/runs';
import { stopDaemon } from '../../lab/procs';
import { bindZoneOf, namedName, startBind, startNamed, stopBind } from '../../lab/bind';
import { rfc2136Read } from '../../activities/dns-rfc2136';
import { ask } from '../../activities/dns-query';
import type { Lab } from '../../lab';
import { projectBinary } from '../helpers/binaries';
import { direct, freshLab, labAsNew, query1, testLab } from '../helpers/lab';
import { configWith, withWorkers } from '../helpers/gate';

let env: TestWorkflowEnvironment;
let lab: Lab;
let bind: LoadedConfig;

const ADDRESSES = { ops: '198.18.1.4', tw: '198.18.1.1', tw2: '198.18.1.2', sg: '198.18.1.3' } as const;
const PORT = 15053;

/** The test lab's config with BIND as its DNS provider (the records as they are), and other changes. */
function withBind(changes: Array<[Array<string | number>, unknown]> = [], tsigSecret = 'file:../.lab/test/secrets/dns-tsig'): LoadedConfig {
  const base = configWith([]);
  const dns = {
    provider: 'rfc2136',
    zoneName: base.config.dns!.zoneName,
    records: base.config.dns!.records,
    rfc2136: {
      primary: { host: ADDRESSES.ops, port: PORT },
      servers: Object.entries(ADDRESSES).map(([name, host]) => ({ name, host, port: PORT, ...(name !== 'ops' && { site: name }) })),
      tsig: { name: 'dr-update', algorithm: 'hmac-sha256', secret: tsigSecret },
      resolvers: Object.fromEntries(['tw', 'tw2', 'sg'].map((site) => [site, { host: ADDRESSES[site as 'tw'], port: PORT }])),
    },
  };
  return configWith([[['dns'], dns], ...changes]);
}

before(async () => {
  lab = (await labAsNew(configWith([]))) ? testLab() : await freshLab();
  bind = withBind();
  await startBind(bind, lab.dirs);
  env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: projectBinary('temporal-test-server') } },
  });
});

after(async () => {
  await env?.teardown();
  await stopBind(bind, lab.dirs);
  // The switchover left sg primary (a switch back is the failback's work): the next suite gets tw back.
  if (!(await twWritable(bind))) await freshLab();
});

const switchover = (from: string, to: string) =>
  env.client.workflow.execute('failover', {
    taskQueue: controlTaskQueue,
    workflowId: `failover-bind-${from}-${to}-${Date.now()}`,
    args: [{ group: 'trading', from, to, mode: 'planned', reason: 'BIND test', requestedBy: 'ops-lead' }],
  }) as Promise<FailoverReport>;

async function twWritable(loaded: LoadedConfig): Promise<boolean> {
  const tw = await direct(loaded, 'tw');
  try {
    return Number(await query1(tw, 'SELECT @@global.read_only')) === 0;
  } finally {
    await tw.end();
  }
}

test('a wrong TSIG key is refused before the fence, naming the config field; nothing is changed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsig-'));
  writeFileSync(join(dir, 'wrong'), Buffer.alloc(32, 7).toString('base64'));
  const wrong = withBind([], `file:${join(dir, 'wrong')}`);
  const before = await rfc2136Read({ dns: bind.config.dns! });
  await withWorkers(env, wrong, async () => {
    await assert.rejects(switchover('tw', 'sg'), (err: Error & { cause?: Error }) => {
      assert.match(err.cause?.message ?? '', /dns\.rfc2136\.tsig\.secret.*not that key's secret/);
      assert.doesNotMatch(err.cause?.message ?? '', /unfence/, 'nothing was fenced');
      return true;
    });
  });
  assert.deepEqual(await rfc2136Read({ dns: bind.config.dns! }), before);
  assert.equal(await twWritable(bind), true);
});

test('a secondary that is down is named; the run waits its bound, then stops before the fence', async () => {
  const zone = bindZoneOf(bind);
  const sg = zone.secondaries.find((s) => s.name === 'sg')!;
  const loaded = withBind([[['timeouts', 'dnsInsync'], '2s']]);
  await stopDaemon(lab.dirs.pids, namedName(sg));
  try {
    await withWorkers(env, loaded, async () => {
      await assert.rejects(switchover('tw', 'sg'), (err: Error & { cause?: Error }) => {
        assert.match(err.cause?.message ?? '', /not on every authoritative server after 2000 ms.*sg \(198\.18\.1\.3:15053\)/);
        assert.doesNotMatch(err.cause?.message ?? '', /unfence/, 'nothing was fenced');
        return true;
      });
    });
  } finally {
    await startNamed(zone, sg, lab.dirs);
  }
  assert.equal(await twWritable(loaded), true);
});

test('after a switchover every authoritative server and every site’s resolver answer the new value', async () => {
  await withWorkers(env, bind, async () => {
    const r = await switchover('tw', 'sg');
    assert.equal(r.outcome, 'completed');
    const dns = r.steps.find((s) => s.name === 'dns')!.detail as {
      insync: { servers: Array<{ name: string }> };
      resolvedBySite: Array<{ site: string; resolves: string; firstAt: string }>;
    };
    assert.deepEqual(dns.insync.servers.map((s) => s.name).sort(), ['ops', 'sg', 'tw', 'tw2']);
    assert.deepEqual(dns.resolvedBySite.map((s) => `${s.site}→${s.resolves}`).sort(), ['sg→sg', 'tw2→sg', 'tw→sg']);
    const record = bind.config.dns!.records[0]!;
    for (const [name, host] of Object.entries(ADDRESSES)) {
      const answer = await ask({ host, port: PORT }, record.name, record.type);
      assert.deepEqual(
        answer.records.filter((x) => x.type === record.type).map((x) => x.value.replace(/\.$/, '')),
        [record.values.sg!.replace(/\.$/, '')],
        `${name} answers sg's value`,
      );
    }
  });
});
