// The workflow-safe plan: what a runbook may see and record in its history. Durations in ms, flags for the
// optional site sections, names only, and never an endpoint or a secret reference.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument, type Document } from 'yaml';
import { parseConfig, type LoadedConfig } from '../../config/load';
import { planOf } from '../../config/plan';

const exampleText = readFileSync(join(__dirname, '..', '..', 'config', 'example.yaml'), 'utf8');

/** The example config with changes made to its YAML document, loaded as the product loads it. */
function loadedWith(change: (document: Document) => void): LoadedConfig {
  const document = parseDocument(exampleText);
  change(document);
  return parseConfig(document.toString(), 'plan.yaml');
}

/** A third site in Hong Kong: a standby with only a database and a file copy; no timezone, so UTC. */
const hongKong = {
  id: 'hk',
  role: 'standby',
  name: 'Hong Kong standby',
  agent: { host: 'dr-worker.hk.example.internal', port: 9470 },
  mysql: {
    host: 'mysql-standby.hk.example.internal',
    port: 3307,
    user: 'dr_runbook',
    password: 'env:DR_HK_MYSQL_PASSWORD',
    replicationPassword: 'file:secrets/hk-mysql-repl',
  },
  rclone: {
    remote: ':s3,provider=Other,endpoint=https://s3.hk.example.internal:',
    bucket: 'trading-files-hk',
    accessKeyId: 'env:DR_HK_KEY_ID',
    secretAccessKey: 'file:secrets/hk-app-key',
    sharePath: '/srv/nfs/hk-trading',
  },
};

test('durations become milliseconds, whatever their unit', () => {
  const plan = planOf(
    loadedWith((document) => {
      document.set('timeouts', {
        siteScheduleToStart: '750ms',
        activity: '45s',
        shortStep: '2s',
        heartbeat: '1500ms',
        catchUp: '2m',
        dnsInsync: '3m',
        scaleReady: '1h',
      });
      document.set('failback', { maxLagSeconds: 3, returnWait: '10m', reseed: '3h', catchUp: '90s' });
      document.set('approval', { policy: 'auto-after', after: '90s', approvers: ['ops-lead'] });
    }),
  );
  assert.deepEqual(plan.timeouts, {
    siteScheduleToStartMs: 750,
    activityMs: 45_000,
    shortStepMs: 2_000,
    heartbeatMs: 1_500,
    catchUpMs: 120_000,
    dnsInsyncMs: 180_000,
    scaleReadyMs: 3_600_000,
  });
  assert.deepEqual(plan.failback, { maxLagSeconds: 3, returnWaitMs: 600_000, reseedMs: 10_800_000, catchUpMs: 90_000 });
  assert.deepEqual(plan.approval, {
    policy: 'auto-after',
    afterMs: 90_000,
    approvers: ['ops-lead'],
    requireSignature: false,
    maxAgeMs: 600_000,
    quorum: { default: 1, unplanned: 1, lossOverBudget: 1, discardErrant: 1, drillOutsideWindow: 1 },
  });
});

test('omitted sections take their documented defaults, in milliseconds', () => {
  const plan = planOf(
    loadedWith((document) => {
      document.delete('timeouts');
      document.delete('failback');
      document.delete('dns');
      document.set('approval', { policy: 'auto' });
    }),
  );
  // 5s, 30s, 5s, 10s, 60s, 120s, 180s; failback 5 s lag, 5m, 2h, 30m.
  assert.deepEqual(plan.timeouts, {
    siteScheduleToStartMs: 5_000,
    activityMs: 30_000,
    shortStepMs: 5_000,
    heartbeatMs: 10_000,
    catchUpMs: 60_000,
    dnsInsyncMs: 120_000,
    scaleReadyMs: 180_000,
  });
  assert.deepEqual(plan.failback, { maxLagSeconds: 5, returnWaitMs: 300_000, reseedMs: 7_200_000, catchUpMs: 1_800_000 });
  assert.deepEqual(plan.approval, {
    policy: 'auto',
    afterMs: null,
    approvers: [],
    requireSignature: false,
    maxAgeMs: 600_000,
    quorum: { default: 1, unplanned: 1, lossOverBudget: 1, discardErrant: 1, drillOutsideWindow: 1 },
  });
  assert.deepEqual(plan.dnsRecords, []);
});

test('each site says which optional sections it has, one flag per section', () => {
  const plan = planOf(
    loadedWith((document) => {
      document.deleteIn(['sites', 1, 'proxysql']);
      document.addIn(['sites'], hongKong);
    }),
  );
  assert.deepEqual(plan.sites, [
    {
      id: 'tw',
      role: 'primary',
      name: 'Taiwan IDC (Taipei)',
      timezone: 'Asia/Taipei',
      proxysql: true,
      haproxy: false,
      kubernetes: true,
      rclone: true,
    },
    { id: 'sg', role: 'dr', name: 'Singapore DR', timezone: 'Asia/Singapore', proxysql: false, haproxy: false, kubernetes: true, rclone: true },
    { id: 'hk', role: 'standby', name: 'Hong Kong standby', timezone: 'UTC', proxysql: false, haproxy: false, kubernetes: false, rclone: true },
  ]);
});

test('groups carry their sites, their services by name and their semi-sync roles in ms; DNS records by name', () => {
  const plan = planOf(
    loadedWith((document) => {
      document.addIn(['sites'], hongKong);
      document.addIn(['groups'], { id: 'reporting', sites: ['tw', 'hk'], semiSync: { timeout: '2s', acknowledgers: { tw: ['hk'] } } });
      // A failover of the new group points every record at hk too.
      document.setIn(['dns', 'records', 0, 'values', 'hk'], '192.0.2.30');
      document.setIn(['dns', 'records', 1, 'values', 'hk'], 'proxysql.hk.example.internal.');
    }),
  );
  assert.equal(plan.name, 'trading-prod');
  assert.deepEqual(plan.objectives, { rtoSeconds: 30, rpoSeconds: 300 });
  assert.deepEqual(plan.groups, [
    { id: 'trading', sites: ['tw', 'sg'], services: ['matching-engine', 'order-gateway', 'market-data'], semiSync: null, ownDatabases: false },
    { id: 'reporting', sites: ['tw', 'hk'], services: [], semiSync: { timeoutMs: 2000, acknowledgers: { tw: ['hk'] } }, ownDatabases: false },
  ]);
  assert.deepEqual(plan.dnsRecords, ['api.trading.example.com.', 'db.trading.example.com.']);
});

/** Every string under the given keys, anywhere in a parsed document. */
function valuesUnder(value: unknown, keys: Set<string>, found: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) valuesUnder(item, keys, found);
  else if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (keys.has(key) && (typeof inner === 'string' || typeof inner === 'number')) found.push(String(inner));
      valuesUnder(inner, keys, found);
    }
  }
  return found;
}

/** Every string in a parsed document that is a secret reference. */
function secretReferences(value: unknown, found: string[] = []): string[] {
  if (typeof value === 'string' && /^(env|file):/.test(value)) found.push(value);
  else if (Array.isArray(value)) for (const item of value) secretReferences(item, found);
  else if (value && typeof value === 'object') for (const inner of Object.values(value)) secretReferences(inner, found);
  return found;
}

test('no secret reference, endpoint host or port of the config appears anywhere in the plan', () => {
  const document = parseDocument(exampleText);
  document.addIn(['sites'], hongKong);
  document.setIn(['dns', 'endpoint'], 'http://route53.emulator.internal:5055');
  document.setIn(['dns', 'accessKeyId'], 'env:DR_ROUTE53_KEY_ID');
  document.setIn(['temporal', 'ui'], 'http://temporal-ui.dr.example.internal:8233');
  document.addIn(['notifications', 'webhooks'], { name: 'local-hook', url: 'http://hooks.dr.example.internal:9000/dr' });
  const text = document.toString();
  const plan = JSON.stringify(planOf(parseConfig(text, 'plan.yaml')));
  const raw = document.toJS() as Record<string, unknown>;

  const secrets = secretReferences(raw);
  const endpoints = valuesUnder(raw, new Set(['host', 'address', 'endpoint', 'remote', 'url', 'ui', 'kubeconfig', 'sharePath', 'bucket']));
  // A host:port pair for each database, ProxySQL and mail server.
  const pairs: string[] = [];
  for (const section of valuesOfObjects(raw)) {
    if (typeof section.host === 'string' && typeof section.port === 'number') pairs.push(`${section.host}:${section.port}`);
  }
  const recordValues = (raw.dns as { records: Array<{ values: Record<string, string> }> }).records.flatMap((record) => Object.values(record.values));

  // The config really has them, so the checks below are not vacuous.
  assert.ok(secrets.length >= 10, `only ${secrets.length} secret references found`);
  assert.ok(secrets.includes('env:DR_HK_MYSQL_PASSWORD') && secrets.includes('file:/run/secrets/tw-mysql-repl'));
  assert.ok(endpoints.includes('mysql-primary.tw.example.internal') && endpoints.includes('http://route53.emulator.internal:5055'));
  assert.ok(pairs.includes('mysql-primary.tw.example.internal:3306') && pairs.includes('smtp.example.com:587'));
  assert.ok(recordValues.includes('203.0.113.10'));
  // And the plan does carry the site names, so it is the plan being searched.
  assert.ok(plan.includes('Taiwan IDC (Taipei)') && plan.includes('Hong Kong standby'));

  for (const value of [...secrets, ...endpoints, ...pairs, ...recordValues]) {
    assert.ok(!plan.includes(value), `the plan holds ${JSON.stringify(value)}: ${plan}`);
  }
  assert.doesNotMatch(plan, /env:|file:/);
  assert.doesNotMatch(plan, /"(host|port|user|password|url|endpoint|address|kubeconfig|remote)"/);
  assert.doesNotMatch(plan, /example\.internal/);
});

/** Every object anywhere in a parsed document. */
function valuesOfObjects(value: unknown, found: Array<Record<string, unknown>> = []): Array<Record<string, unknown>> {
  if (Array.isArray(value)) for (const item of value) valuesOfObjects(item, found);
  else if (value && typeof value === 'object') {
    found.push(value as Record<string, unknown>);
    for (const inner of Object.values(value)) valuesOfObjects(inner, found);
  }
  return found;
}
