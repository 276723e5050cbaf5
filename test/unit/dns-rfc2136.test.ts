// The RFC 2136 provider against real BIND: a primary and two secondaries on 127.0.0.1 (ports 41000–41999),
// started by the lab's own code. A flip is an update signed with TSIG; "in sync" is every server answering it,
// which only NOTIFY and IXFR to the secondaries can bring about. No lab, no namespaces: it runs beside one.
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DnsConfig, PointResult } from '../../activities/dns';
import { rfc2136PointAt, rfc2136Read, rfc2136Restore, rfc2136WaitInsync, resolveThroughSite } from '../../activities/dns-rfc2136';
import { zoneSerial } from '../../activities/dns-query';
import { namedName, startNamed, startNamedServers, stopNamedServers, type BindDirs, type BindZone } from '../../lab/bind';
import { stopDaemon } from '../../lab/procs';
import { bindBinaries } from '../helpers/binaries';

const ZONE = 'trading.test.';
const VALUES = {
  db: { tw: 'proxysql.tw.trading.test', tw2: 'proxysql.tw2.trading.test', sg: 'proxysql.sg.trading.test' },
  api: { tw: '192.0.2.10', tw2: '192.0.2.20', sg: '198.51.100.10' },
};

const work = mkdtempSync(join(tmpdir(), 'dr-bind-test-'));
const dirs: BindDirs = { pids: join(work, 'pids'), logs: join(work, 'logs'), data: join(work, 'data') };
const secret = randomBytes(32).toString('base64');
const secretFile = join(work, 'tsig.secret');
/** Every result and error message the adapter gave back: none may hold the secret. */
const seen: unknown[] = [];
let zone: BindZone;
let dns: DnsConfig;

/** Three consecutive ports in 41000–41999 that nothing listens on, TCP or UDP. */
async function freePorts(): Promise<[number, number, number]> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 41000 + 3 * Math.floor(Math.random() * 333);
    const ports = [base, base + 1, base + 2] as const;
    if ((await Promise.all(ports.map(portFree))).every(Boolean)) return [...ports];
  }
  throw new Error('no three free ports in 41000–41999');
}

async function portFree(port: number): Promise<boolean> {
  const tcp = await new Promise<boolean>((resolve) => {
    const server = createServer().once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
  if (!tcp) return false;
  return new Promise<boolean>((resolve) => {
    const socket = createSocket('udp4').once('error', () => resolve(false));
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}

before(async () => {
  bindBinaries(); // fails with the install command when BIND is missing
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
  writeFileSync(secretFile, secret, { mode: 0o600 });
  const [primary, tw, sg] = await freePorts();
  zone = {
    zoneName: ZONE,
    records: [
      { name: `db.${ZONE}`, type: 'CNAME', ttl: 15, value: VALUES.db.tw },
      { name: `api.${ZONE}`, type: 'A', ttl: 15, value: VALUES.api.tw },
    ],
    tsig: { name: 'dr-update', algorithm: 'hmac-sha256', secret },
    primary: { name: 'primary', host: '127.0.0.1', port: primary },
    secondaries: [
      { name: 'tw', host: '127.0.0.1', port: tw },
      { name: 'sg', host: '127.0.0.1', port: sg },
    ],
  };
  dns = {
    provider: 'rfc2136',
    zoneName: ZONE,
    region: 'us-east-1',
    records: [
      { name: `db.${ZONE}`, type: 'CNAME', ttl: 15, values: VALUES.db },
      { name: `api.${ZONE}`, type: 'A', ttl: 15, values: VALUES.api },
    ],
    rfc2136: {
      primary: { host: '127.0.0.1', port: primary },
      servers: [
        { name: 'primary', host: '127.0.0.1', port: primary },
        { name: 'tw', host: '127.0.0.1', port: tw, site: 'tw' },
        { name: 'sg', host: '127.0.0.1', port: sg, site: 'sg' },
      ],
      tsig: { name: 'dr-update', algorithm: 'hmac-sha256', secret: `file:${secretFile}` },
      resolvers: { tw: { host: '127.0.0.1', port: tw }, sg: { host: '127.0.0.1', port: sg } },
    },
  };
  await startNamedServers(zone, dirs);
});

after(async () => {
  if (zone) await stopNamedServers(zone, dirs);
  rmSync(work, { recursive: true, force: true });
});

/** The records as they hold at `site`, for the wait. */
const recordsAt = (site: 'tw' | 'sg') => [
  { name: `db.${ZONE}`, type: 'CNAME' as const, value: VALUES.db[site] },
  { name: `api.${ZONE}`, type: 'A' as const, value: VALUES.api[site] },
];

async function sitesHeld(): Promise<Array<string | null>> {
  const reading = await rfc2136Read({ dns });
  seen.push(reading);
  return reading.map((record) => record.site);
}

async function refusal(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => assert.fail('expected a refusal'),
    (err: unknown) => err as Error,
  );
  seen.push(error.message);
  return error;
}

test('the zone starts at tw on the primary and on every secondary', async () => {
  assert.deepEqual(await sitesHeld(), ['tw', 'tw']);
  for (const site of ['tw', 'sg']) {
    const through = await resolveThroughSite({ dns, site });
    seen.push(through);
    assert.deepEqual(
      through.records.map((record) => record.site),
      ['tw', 'tw'],
      site,
    );
  }
});

test('pointAt flips the records in one update, and waitInsync sees every server answer them (NOTIFY, then IXFR)', async () => {
  const before = await zoneSerial(zone.primary, ZONE);
  const point = await rfc2136PointAt({ dns, baseDir: work, site: 'sg' });
  seen.push(point);
  assert.equal(point.status, 'NOERROR');
  assert.equal(Number(point.changeId), before + 1, 'one update, one new serial');
  assert.deepEqual(
    point.records.map((record) => [record.name, record.value, record.unchanged, record.previous]),
    [
      [`db.${ZONE}`, VALUES.db.sg, false, { ttl: 15, values: [`${VALUES.db.tw}.`] }],
      [`api.${ZONE}`, VALUES.api.sg, false, { ttl: 15, values: [VALUES.api.tw] }],
    ],
  );

  const insync = await rfc2136WaitInsync({ dns, changeId: point.changeId!, records: point.records, timeoutMs: 30_000 });
  seen.push(insync);
  assert.equal(insync.status, 'INSYNC');
  assert.deepEqual(
    insync.servers.map((server) => server.name),
    ['primary', 'tw', 'sg'],
  );
  for (const server of insync.servers) assert.ok(server.serial >= Number(point.changeId), `${server.name} serves ${server.serial}`);
  assert.deepEqual(await sitesHeld(), ['sg', 'sg']);
  for (const site of ['tw', 'sg']) {
    const through = await resolveThroughSite({ dns, site });
    assert.deepEqual(
      through.records.map((record) => record.site),
      ['sg', 'sg'],
      `clients in ${site}`,
    );
  }
  // The secondaries took the change as an incremental transfer, which only the primary's journal can serve.
  assert.match(readFileSync(join(dirs.logs, `${namedName(zone.primary)}.log`), 'utf8'), /IXFR started: TSIG dr-update \(serial \d+ -> \d+\)/);
});

test('pointAt again is a retry that finds its change made: nothing sent, the serial unchanged', async () => {
  const serial = await zoneSerial(zone.primary, ZONE);
  const again = await rfc2136PointAt({ dns, baseDir: work, site: 'sg' });
  seen.push(again);
  assert.equal(again.status, 'unchanged');
  assert.equal(again.changeId, String(serial));
  assert.ok(again.records.every((record) => record.unchanged));
});

test('a secondary that is down keeps the change out of sync: the wait fails after its bound naming it, passes without it when its site is unreachable, and passes once it is back', async () => {
  const sg = zone.secondaries.find((server) => server.name === 'sg')!;
  await stopDaemon(dirs.pids, namedName(sg));
  const point = await rfc2136PointAt({ dns, baseDir: work, site: 'tw' });
  seen.push(point);
  const error = await refusal(rfc2136WaitInsync({ dns, changeId: point.changeId!, records: point.records, timeoutMs: 1_500 }));
  assert.match(error.message, new RegExp(`not on every authoritative server after 1500 ms`));
  assert.match(error.message, new RegExp(`sg \\(127\\.0\\.0\\.1:${sg.port}\\) does not answer`));
  assert.match(error.message, /in sync: primary, tw$/);

  // A runbook that knows sg is unreachable does not wait for its server.
  const without = await rfc2136WaitInsync({ dns, changeId: point.changeId!, records: point.records, unreachableSites: ['sg'], timeoutMs: 30_000 });
  seen.push(without);
  assert.deepEqual([without.servers.map((server) => server.name), without.skipped], [['primary', 'tw'], [{ name: 'sg', site: 'sg' }]]);

  await startNamed(zone, sg, dirs); // it loads its old copy, then refreshes from the primary
  const insync = await rfc2136WaitInsync({ dns, changeId: point.changeId!, records: recordsAt('tw'), timeoutMs: 60_000 });
  seen.push(insync);
  assert.equal(insync.servers.find((server) => server.name === 'sg')!.serial >= Number(point.changeId), true);
});

test('a wrong TSIG secret is refused naming dns.rfc2136.tsig.secret, and nothing changes', async () => {
  const serial = await zoneSerial(zone.primary, ZONE);
  const wrong = randomBytes(32).toString('base64');
  process.env.DR_TEST_WRONG_TSIG = wrong;
  try {
    const withWrongSecret: DnsConfig = { ...dns, rfc2136: { ...dns.rfc2136!, tsig: { ...dns.rfc2136!.tsig, secret: 'env:DR_TEST_WRONG_TSIG' } } };
    const error = await refusal(rfc2136PointAt({ dns: withWrongSecret, baseDir: work, site: 'sg' }));
    assert.match(error.message, /dns\.rfc2136\.tsig\.secret \(env:DR_TEST_WRONG_TSIG\) is not that key's secret \(BADSIG; nothing changed\)/);
    assert.ok(!error.message.includes(wrong), 'the wrong secret is not in the message');

    const withUnknownKey: DnsConfig = { ...dns, rfc2136: { ...dns.rfc2136!, tsig: { ...dns.rfc2136!.tsig, name: 'no-such-key' } } };
    const unknown = await refusal(rfc2136PointAt({ dns: withUnknownKey, baseDir: work, site: 'sg' }));
    assert.match(
      unknown.message,
      /does not know TSIG key 'no-such-key' \(hmac-sha256\): check dns\.rfc2136\.tsig\.name .*\(BADKEY; nothing changed\)/,
    );
  } finally {
    delete process.env.DR_TEST_WRONG_TSIG;
  }
  assert.equal(await zoneSerial(zone.primary, ZONE), serial);
  assert.deepEqual(await sitesHeld(), ['tw', 'tw']);
});

test('restore puts the previous values back, and deletes a record that did not exist', async () => {
  const point: PointResult = await rfc2136PointAt({ dns, baseDir: work, site: 'sg' });
  seen.push(point);
  const restored = await rfc2136Restore({ dns, baseDir: work, records: point.records });
  seen.push(restored);
  assert.deepEqual(
    restored.records.map((record) => record.action),
    ['UPSERT', 'UPSERT'],
  );
  await rfc2136WaitInsync({ dns, changeId: restored.changeId!, records: recordsAt('tw'), timeoutMs: 30_000 });
  assert.deepEqual(await sitesHeld(), ['tw', 'tw']);

  const api = { name: `api.${ZONE}`, type: 'A' as const };
  const deleted = await rfc2136Restore({ dns, baseDir: work, records: [{ ...api, previous: null }] });
  const again = await rfc2136Restore({ dns, baseDir: work, records: [{ ...api, previous: null }] });
  seen.push(deleted, again);
  assert.equal(deleted.records[0]!.action, 'DELETE');
  assert.deepEqual(again, { changeId: null, submittedAt: null, records: [{ ...api, action: 'none' }] });
  assert.equal((await rfc2136Read({ dns }))[1]!.current, null);

  const back = await rfc2136Restore({ dns, baseDir: work, records: [{ ...api, previous: { ttl: 15, values: [VALUES.api.tw] } }] });
  seen.push(back);
  await rfc2136WaitInsync({ dns, changeId: back.changeId!, records: recordsAt('tw'), timeoutMs: 30_000 });
  assert.deepEqual(await sitesHeld(), ['tw', 'tw']);
});

test('a site without a resolver is named by its config field', async () => {
  const error = await refusal(resolveThroughSite({ dns, site: 'tw2' }));
  assert.match(error.message, /^dns\.rfc2136\.resolvers\.tw2: not set/);
});

test('the TSIG secret is in no result and no error, and no key file outlives its update', () => {
  const text = JSON.stringify(seen);
  assert.ok(seen.length > 10, `${seen.length} results and errors kept`);
  assert.ok(!text.includes(secret), 'the secret appears in a result or an error');
  assert.deepEqual(
    readdirSync(tmpdir()).filter((name) => name.startsWith('dr-nsupdate-')),
    [],
  );
});
