// activities/dns.ts against a real moto server (the project's pinned moto_server), started on a free port by
// lab/moto.ts with a temporary state folder. Run: node --import tsx --test test/lab/dns.test.ts
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ListResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import { parseConfig, type LoadedConfig } from '../../config/load';
import { pointRecordsAt, readRecords, restoreRecords, route53Client, waitForInsync, type DnsConfig } from '../../activities/dns';
import { MOTO, ensureHostedZone, labDnsConfig, startMoto, zoneIdFile } from '../../lab/moto';
import { labDirs, type LabDirs } from '../../lab/paths';
import { stopDaemon } from '../../lab/procs';
import { freePort } from '../helpers/ports';
import { labOf } from '../../lab/settings';

const tmp = mkdtempSync(join(tmpdir(), 'dr-dns-test-'));
let loaded: LoadedConfig;
let dirs: LabDirs;
let dns: DnsConfig;
let zoneId: string;

function configText(opts: { stateDir: string; motoPort: number }): string {
  return `
name: dns-test
stateDir: ${opts.stateDir}
x-lab:
  motoPort: ${opts.motoPort}
objectives: { rtoSeconds: 30, rpoSeconds: 300 }
sites:
  - { id: tw, role: primary, name: Taiwan, mysql: { host: 127.0.0.1, port: 1, user: dr, password: 'env:DR_DNS_TEST_UNUSED' } }
  - { id: sg, role: dr, name: Singapore, mysql: { host: 127.0.0.1, port: 2, user: dr, password: 'env:DR_DNS_TEST_UNUSED' } }
groups:
  - { id: trading, sites: [tw, sg] }
approval: { policy: auto }
dns:
  hostedZoneId: lab-generated
  zoneName: trading.test.
  endpoint: http://127.0.0.1:${opts.motoPort}
  records:
    - { name: api.trading.test., type: A, ttl: 15, values: { tw: 10.0.1.10, sg: 10.0.2.10 } }
    - { name: db.trading.test., type: CNAME, ttl: 30, values: { tw: proxysql.tw.internal., sg: proxysql.sg.internal. } }
`;
}

/** Every record set in the zone, as Route 53 lists it: the ground truth for "restored exactly". */
async function zoneSnapshot(): Promise<unknown[]> {
  const client = route53Client(dns, tmp);
  try {
    const out = await client.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }));
    return out.ResourceRecordSets ?? [];
  } finally {
    client.destroy();
  }
}

const sitesNow = async () => Object.fromEntries((await readRecords({ dns, baseDir: tmp })).map((r) => [r.name, r.site]));

before(async () => {
  const port = await freePort();
  loaded = parseConfig(configText({ stateDir: join(tmp, 'state'), motoPort: port }), join(tmp, 'dns-test.yaml'));
  // A record with a value for sg only. A config may not say this any more (every failover points every record
  // at its new site), but the adapter must still skip such a record rather than fail: added past the loader.
  loaded.config.dns!.records.push({ name: 'reports.trading.test.', type: 'A', ttl: 60, values: { sg: '10.0.2.99' } });
  dirs = labDirs(loaded);
  assert.equal(await startMoto(loaded, dirs), 'started');
  dns = labDnsConfig(loaded);
  zoneId = dns.hostedZoneId!;
});

after(async () => {
  if (dirs) await stopDaemon(dirs.pids, MOTO);
  rmSync(tmp, { recursive: true, force: true });
});

test('the lab zone: generated id written to the state dir, initial records at the primary site', async () => {
  assert.ok(existsSync(zoneIdFile(dirs)));
  assert.equal(readFileSync(zoneIdFile(dirs), 'utf8').trim(), zoneId);
  assert.notEqual(zoneId, 'lab-generated');
  assert.match(zoneId, /^[A-Z0-9]+$/);
  assert.equal(dns.endpoint, `http://127.0.0.1:${labOf(loaded).motoPort}`);
  const now = await readRecords({ dns, baseDir: tmp });
  assert.deepEqual(
    now.map((r) => [r.name, r.site, r.current]),
    [
      ['api.trading.test.', 'tw', { ttl: 15, values: ['10.0.1.10'] }],
      ['db.trading.test.', 'tw', { ttl: 30, values: ['proxysql.tw.internal.'] }],
      ['reports.trading.test.', null, null],
    ],
  );
  // A second start finds moto running and the same zone. Ensuring the zone again creates only missing
  // records (here at sg) and leaves existing ones where they point, so it cannot undo a failover.
  assert.equal(await startMoto(loaded, dirs), 'running');
  assert.equal(await ensureHostedZone(loaded, { dirs, pointAt: 'sg' }), zoneId);
  assert.deepEqual(await sitesNow(), { 'api.trading.test.': 'tw', 'db.trading.test.': 'tw', 'reports.trading.test.': 'sg' });
  const removed = await restoreRecords({ dns, baseDir: tmp, records: [{ name: 'reports.trading.test.', type: 'A', previous: null }] });
  assert.deepEqual(removed.records, [{ name: 'reports.trading.test.', type: 'A', action: 'DELETE' }]);
  assert.equal((await sitesNow())['reports.trading.test.'], null);
});

test('point at sg: one UPSERT batch, previous values recorded, INSYNC; restore puts the zone back exactly', async () => {
  const before = await zoneSnapshot();
  const r = await pointRecordsAt({ dns, baseDir: tmp, site: 'sg', comment: 'test failover to sg' });
  assert.equal(r.site, 'sg');
  assert.match(r.changeId!, /^[A-Z0-9]+$/);
  assert.ok(!Number.isNaN(Date.parse(r.submittedAt!)));
  assert.deepEqual(r.skipped, []);
  assert.deepEqual(
    r.records.map((x) => ({ name: x.name, type: x.type, ttl: x.ttl, value: x.value, previous: x.previous, unchanged: x.unchanged })),
    [
      { name: 'api.trading.test.', type: 'A', ttl: 15, value: '10.0.2.10', previous: { ttl: 15, values: ['10.0.1.10'] }, unchanged: false },
      {
        name: 'db.trading.test.',
        type: 'CNAME',
        ttl: 30,
        value: 'proxysql.sg.internal.',
        previous: { ttl: 30, values: ['proxysql.tw.internal.'] },
        unchanged: false,
      },
      { name: 'reports.trading.test.', type: 'A', ttl: 60, value: '10.0.2.99', previous: null, unchanged: false },
    ],
  );
  const insync = await waitForInsync({ dns, baseDir: tmp, changeId: r.changeId!, timeoutMs: 10_000 });
  assert.equal(insync.changeId, r.changeId);
  assert.equal(insync.status, 'INSYNC');
  assert.ok(insync.polls >= 1);
  assert.deepEqual(await sitesNow(), { 'api.trading.test.': 'sg', 'db.trading.test.': 'sg', 'reports.trading.test.': 'sg' });

  const restored = await restoreRecords({ dns, baseDir: tmp, records: r.records });
  assert.deepEqual(
    restored.records.map((x) => `${x.name}:${x.action}`),
    ['api.trading.test.:UPSERT', 'db.trading.test.:UPSERT', 'reports.trading.test.:DELETE'],
  );
  await waitForInsync({ dns, baseDir: tmp, changeId: restored.changeId!, timeoutMs: 10_000 });
  assert.deepEqual(await zoneSnapshot(), before);
});

test('idempotent: pointing twice and restoring twice ends where it started', async () => {
  const before = await zoneSnapshot();
  const first = await pointRecordsAt({ dns, baseDir: tmp, site: 'sg' });
  const again = await pointRecordsAt({ dns, baseDir: tmp, site: 'sg' });
  assert.deepEqual(
    again.records.map((x) => x.unchanged),
    [true, true, true],
  );
  assert.deepEqual(
    again.records.map((x) => x.previous),
    [
      { ttl: 15, values: ['10.0.2.10'] },
      { ttl: 30, values: ['proxysql.sg.internal.'] },
      { ttl: 60, values: ['10.0.2.99'] },
    ],
  );
  assert.deepEqual(await sitesNow(), { 'api.trading.test.': 'sg', 'db.trading.test.': 'sg', 'reports.trading.test.': 'sg' });

  // The compensation uses the first attempt's previous values; running it twice is harmless.
  await restoreRecords({ dns, baseDir: tmp, records: first.records });
  const second = await restoreRecords({ dns, baseDir: tmp, records: first.records });
  assert.deepEqual(
    second.records.map((x) => x.action),
    ['UPSERT', 'UPSERT', 'none'],
  );
  assert.deepEqual(await zoneSnapshot(), before);
});

test('pointing at tw skips and lists the records that have no tw value', async () => {
  const r = await pointRecordsAt({ dns, baseDir: tmp, site: 'tw' });
  assert.deepEqual(r.skipped, [{ name: 'reports.trading.test.', type: 'A' }]);
  assert.deepEqual(
    r.records.map((x) => x.name),
    ['api.trading.test.', 'db.trading.test.'],
  );
  assert.deepEqual(await sitesNow(), { 'api.trading.test.': 'tw', 'db.trading.test.': 'tw', 'reports.trading.test.': null });
  const none = await pointRecordsAt({ dns: { ...dns, records: dns.records.filter((x) => x.name.startsWith('reports')) }, baseDir: tmp, site: 'tw' });
  assert.equal(none.changeId, null);
});

test('without hostedZoneId the zone is looked up by dns.zoneName', async () => {
  const byName: DnsConfig = { ...dns, hostedZoneId: undefined };
  assert.deepEqual(
    (await readRecords({ dns: byName, baseDir: tmp })).map((r) => r.site),
    ['tw', 'tw', null],
  );
  // A parent zone name that holds the records' names but does not exist in Route 53.
  await assert.rejects(
    readRecords({ dns: { ...byName, zoneName: 'test.' }, baseDir: tmp }),
    /no hosted zone named test\. at endpoint http:\/\/127\.0\.0\.1:\d+/,
  );
});

test('credentials come from secret references and never appear in messages', async () => {
  process.env.DR_DNS_TEST_KEY = 'AKIDDNSTEST';
  process.env.DR_DNS_TEST_SECRET = 'sekrit-dns-value-123';
  try {
    const withCreds: DnsConfig = { ...dns, accessKeyId: 'env:DR_DNS_TEST_KEY', secretAccessKey: 'env:DR_DNS_TEST_SECRET' };
    assert.equal((await readRecords({ dns: withCreds, baseDir: tmp }))[0]!.site, 'tw');
    const dead = `http://127.0.0.1:${await freePort()}`;
    await assert.rejects(readRecords({ dns: { ...withCreds, endpoint: dead }, baseDir: tmp }), (err: Error) => {
      assert.doesNotMatch(err.message, /sekrit-dns-value-123/);
      return true;
    });
    await assert.rejects(
      readRecords({ dns: { ...withCreds, secretAccessKey: 'env:DR_DNS_TEST_NOT_SET' }, baseDir: tmp }),
      /secret env:DR_DNS_TEST_NOT_SET: environment variable DR_DNS_TEST_NOT_SET is not set/,
    );
    await assert.rejects(
      readRecords({ dns: { ...dns, accessKeyId: 'env:DR_DNS_TEST_KEY' }, baseDir: tmp }),
      /accessKeyId and secretAccessKey must be set together/,
    );
  } finally {
    delete process.env.DR_DNS_TEST_KEY;
    delete process.env.DR_DNS_TEST_SECRET;
  }
});

test('an unreachable endpoint: the error names the endpoint, the hosted zone and the record', async () => {
  const endpoint = `http://127.0.0.1:${await freePort()}`;
  const dead: DnsConfig = { ...dns, endpoint };
  const names = (op: string, what: RegExp) => (err: Error) => {
    assert.match(err.message, new RegExp(`Route 53 ${op} `));
    assert.match(err.message, what);
    assert.ok(err.message.includes(`hosted zone ${zoneId} (trading.test.)`), err.message);
    assert.ok(err.message.includes(`endpoint ${endpoint}`), err.message);
    assert.match(err.message, /ECONNREFUSED/);
    return true;
  };
  await assert.rejects(pointRecordsAt({ dns: dead, baseDir: tmp, site: 'sg' }), names('ListResourceRecordSets', /record api\.trading\.test\. A/));
  await assert.rejects(waitForInsync({ dns: dead, baseDir: tmp, changeId: 'C0123', timeoutMs: 5_000 }), names('GetChange', /change C0123/));
  await assert.rejects(
    restoreRecords({ dns: dead, baseDir: tmp, records: [{ name: 'api.trading.test.', type: 'A', previous: { ttl: 15, values: ['10.0.1.10'] } }] }),
    names('ChangeResourceRecordSets', /records api\.trading\.test\. A/),
  );
});

test('Route 53 refusals name the zone and record; names outside the zone are refused before any call', async () => {
  await assert.rejects(pointRecordsAt({ dns: { ...dns, hostedZoneId: 'ZNOSUCHZONE' }, baseDir: tmp, site: 'sg' }), (err: Error) => {
    assert.match(err.message, /hosted zone ZNOSUCHZONE \(trading\.test\.\)/);
    assert.match(err.message, /NoSuchHostedZone/);
    assert.match(err.message, /record api\.trading\.test\. A/);
    return true;
  });
  const outside: DnsConfig = { ...dns, records: [{ name: 'api.example.org.', type: 'A', ttl: 15, values: { sg: '10.0.0.1' } }] };
  await assert.rejects(
    pointRecordsAt({ dns: outside, baseDir: tmp, site: 'sg' }),
    /record api\.example\.org\. is not inside hosted zone .* \(trading\.test\.\)/,
  );
});

test('waitForInsync polls a PENDING change until INSYNC, and names the change when it never gets there', async () => {
  // moto answers INSYNC at once, so a stand-in Route 53 answers GetChange with PENDING first.
  let pendingFor = 2;
  let polls = 0;
  const stub: HttpServer = createHttpServer((req, res) => {
    polls++;
    const m = /\/2013-04-01\/change\/([^/?]+)/.exec(req.url ?? '');
    const status = polls <= pendingFor ? 'PENDING' : 'INSYNC';
    res.writeHead(m ? 200 : 404, { 'content-type': 'text/xml' });
    res.end(
      `<?xml version="1.0"?><GetChangeResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ChangeInfo><Id>/change/${m?.[1]}</Id><Status>${status}</Status><SubmittedAt>2026-01-01T00:00:00.000Z</SubmittedAt></ChangeInfo></GetChangeResponse>`,
    );
  });
  await new Promise<void>((r) => stub.listen(0, '127.0.0.1', () => r()));
  const endpoint = `http://127.0.0.1:${(stub.address() as AddressInfo).port}`;
  try {
    const r = await waitForInsync({ dns: { ...dns, endpoint }, baseDir: tmp, changeId: '/change/CSTUB1', timeoutMs: 30_000 });
    assert.deepEqual({ changeId: r.changeId, status: r.status, polls: r.polls }, { changeId: 'CSTUB1', status: 'INSYNC', polls: 3 });

    pendingFor = Infinity;
    await assert.rejects(waitForInsync({ dns: { ...dns, endpoint }, baseDir: tmp, changeId: 'CSTUB2', timeoutMs: 500 }), (err: Error) => {
      assert.match(
        err.message,
        /Route 53 change CSTUB2 in hosted zone \S+ \(trading\.test\.\) at endpoint http:\/\/127\.0\.0\.1:\d+ is still PENDING after 500 ms/,
      );
      return true;
    });
  } finally {
    await new Promise((r) => stub.close(r));
  }
});

test('a busy x-lab.motoPort is refused with the port and the config field named', async () => {
  const squatter = createServer();
  await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', () => r()));
  const port = (squatter.address() as AddressInfo).port;
  try {
    const other = parseConfig(configText({ stateDir: join(tmp, 'busy-state'), motoPort: port }), join(tmp, 'busy.yaml'));
    await assert.rejects(startMoto(other, labDirs(other)), (err: Error) => {
      assert.match(err.message, new RegExp(`port ${port} for moto .* is busy`));
      assert.match(err.message, /change x-lab\.motoPort in .*busy\.yaml/);
      return true;
    });
  } finally {
    await new Promise((r) => squatter.close(r));
  }
});
