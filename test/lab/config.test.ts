// Config validation: every invalid config is rejected with the field path that is wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError, loadConfig, parseConfig } from '../../config/load';
import { ROOT } from '../../lab/paths';
import { labOf } from '../../lab/settings';

const example = join(ROOT, 'config', 'example.yaml');
const baseText = readFileSync(example, 'utf8');

/** The example config with one change applied at a YAML path. */
function variant(path: (string | number)[], value: unknown, op: 'set' | 'delete' = 'set'): string {
  const doc = parseDocument(baseText);
  if (op === 'delete') doc.deleteIn(path);
  else doc.setIn(path, value);
  return doc.toString();
}

function problemsOf(text: string): string[] {
  try {
    parseConfig(text, 'bad.yaml');
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems;
  }
  assert.fail('config was accepted');
}

test('the shipped configs are valid', () => {
  for (const f of ['example.yaml', 'lab.yaml', 'lab-test.yaml']) loadConfig(join(ROOT, 'config', f));
});

const cases: Array<{ name: string; text: () => string; expect: RegExp }> = [
  { name: 'unknown top-level key', text: () => variant(['colour'], 'blue'), expect: /^bad\.yaml: colour: unknown key/ },
  {
    name: 'unknown nested key',
    text: () => variant(['sites', 0, 'mysql', 'pasword'], 'env:X'),
    expect: /^bad\.yaml: sites\[0\]\.mysql\.pasword: unknown key/,
  },
  {
    name: 'missing secret reference',
    text: () => variant(['sites', 0, 'mysql', 'password'], null, 'delete'),
    expect: /^bad\.yaml: sites\[0\]\.mysql\.password: .*required|secret reference/,
  },
  {
    name: 'plain-text password instead of a reference',
    text: () => variant(['sites', 1, 'mysql', 'password'], 'hunter2'),
    expect: /^bad\.yaml: sites\[1\]\.mysql\.password: must be a secret reference/,
  },
  { name: 'duplicate site id', text: () => variant(['sites', 1, 'id'], 'tw'), expect: /^bad\.yaml: sites\[1\]\.id: duplicate site id 'tw'/ },
  {
    name: 'DNS record pointing at an unknown site',
    text: () => variant(['dns', 'records', 0, 'values', 'hk'], '192.0.2.1'),
    expect: /^bad\.yaml: dns\.records\[0\]\.values\.hk: record points at unknown site 'hk'/,
  },
  {
    name: 'bad TTL',
    text: () => variant(['dns', 'records', 0, 'ttl'], 0),
    expect: /^bad\.yaml: dns\.records\[0\]\.ttl: TTL must be at least 1 second/,
  },
  { name: 'TTL not a number', text: () => variant(['dns', 'records', 0, 'ttl'], 'fast'), expect: /^bad\.yaml: dns\.records\[0\]\.ttl: / },
  { name: 'unknown role', text: () => variant(['sites', 1, 'role'], 'backup'), expect: /^bad\.yaml: sites\[1\]\.role: / },
  {
    name: 'group naming an unknown site',
    text: () => variant(['groups', 0, 'sites', 1], 'hk'),
    expect: /^bad\.yaml: groups\[0\]\.sites\[1\]: unknown site 'hk' \(known sites: tw, sg\)/,
  },
  {
    name: 'auto-after without a duration',
    text: () => variant(['approval'], { policy: 'auto-after', approvers: ['ops-lead'] }),
    expect: /^bad\.yaml: approval\.after: /,
  },
  {
    name: 'malformed duration',
    text: () => variant(['timeouts', 'catchUp'], 'ten seconds'),
    expect: /^bad\.yaml: timeouts\.catchUp: must be a duration/,
  },
  {
    name: 'missing objective',
    text: () => variant(['objectives', 'rpoSeconds'], null, 'delete'),
    expect: /^bad\.yaml: objectives\.rpoSeconds: required/,
  },
  { name: 'port out of range', text: () => variant(['sites', 0, 'mysql', 'port'], 70000), expect: /^bad\.yaml: sites\[0\]\.mysql\.port: / },
  { name: 'no primary site', text: () => variant(['sites', 0, 'role'], 'standby'), expect: /^bad\.yaml: sites: no site has role 'primary'/ },
  {
    name: 'HPA min above max',
    text: () => variant(['groups', 0, 'services', 0, 'production', 'minReplicas'], 50),
    expect: /^bad\.yaml: groups\[0\]\.services\[0\]\.production\.minReplicas: minReplicas must not exceed maxReplicas/,
  },
  {
    name: 'escalation to an unknown target',
    text: () => variant(['notifications', 'escalateTo'], ['pager']),
    expect: /^bad\.yaml: notifications\.escalateTo\[0\]: unknown notification target 'pager'/,
  },
  { name: 'YAML syntax error', text: () => 'name: [unclosed\n', expect: /^bad\.yaml: line \d+: YAML: / },
];

for (const c of cases) {
  test(`invalid config is rejected with its field path: ${c.name}`, () => {
    const problems = problemsOf(c.text());
    assert.ok(
      problems.some((p) => c.expect.test(p)),
      `expected ${c.expect} in:\n${problems.join('\n')}`,
    );
  });
}

test('one pass reports every problem, with line numbers', () => {
  const doc = parseDocument(baseText);
  doc.setIn(['sites', 1, 'id'], 'tw');
  doc.setIn(['dns', 'records', 0, 'ttl'], -5);
  doc.setIn(['colour'], 'blue');
  const problems = problemsOf(doc.toString());
  for (const want of [/^bad\.yaml: sites\[1\]\.id: duplicate/, /^bad\.yaml: dns\.records\[0\]\.ttl: /, /^bad\.yaml: colour: unknown key/]) {
    assert.ok(
      problems.some((p) => want.test(p)),
      `${want} in:\n${problems.join('\n')}`,
    );
  }
  assert.ok(
    problems.every((p) => /\(line \d+\)$/.test(p)),
    problems.join('\n'),
  );
});

const tsx = (script: string, ...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, script), ...args], { cwd: ROOT, encoding: 'utf8' });

test('`config check` prints file: path: message and exits 2 on a bad config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'drcfg-'));
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, variant(['sites', 1, 'id'], 'tw'));
  const r = tsx('cli/config.ts', 'check', bad);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, new RegExp(`^${bad.replace(/[.]/g, '\\.')}: sites\\[1\\]\\.id: duplicate site id 'tw'`, 'm'));
  const ok = execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'cli/config.ts'), 'check', example], { cwd: ROOT, encoding: 'utf8' });
  assert.match(ok, /ok \(2 sites: tw=primary, sg=dr/);
});

test('a worker with a bad config exits 2 naming the field, before connecting anywhere', () => {
  const dir = mkdtempSync(join(tmpdir(), 'drcfg-'));
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, variant(['approval', 'policy'], 'sometimes'));
  for (const w of ['workers/site.ts', 'workers/control.ts']) {
    const r = tsx(w, '--config', bad, '--site', 'tw');
    assert.equal(r.status, 2, `${w}: ${r.stderr}`);
    assert.match(r.stderr, /bad\.yaml: approval\.policy: /);
  }
});

test('a site worker for an unknown site exits 2 naming the known sites', () => {
  const r = tsx('workers/site.ts', '--config', example, '--site', 'hk');
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /unknown site 'hk' \(known sites: tw, sg\)/);
});

test('lab ports lie outside the ephemeral range, and one inside it is named by file and field', async () => {
  const { portProblems, ephemeralRange } = await import('../../lab/ports');
  for (const f of ['lab.yaml', 'lab-test.yaml']) assert.deepEqual(portProblems(loadConfig(join(ROOT, 'config', f))), [], f);
  const loaded = loadConfig(join(ROOT, 'config', 'lab-test.yaml'));
  const [lo] = ephemeralRange();
  loaded.config.sites[1]!.mysql.port = lo + 394;
  loaded.config.sites[0]!.proxysql!.port = labOf(loaded).s3Port!;
  const problems = portProblems(loaded);
  assert.equal(problems.length, 2, problems.join('\n'));
  assert.ok(
    problems.some((p) => p.includes(`lab-test.yaml: sites[1].mysql.port: port ${lo + 394} is inside the kernel's ephemeral port range`)),
    problems.join('\n'),
  );
  assert.ok(
    problems.some((p) => p.includes('lab-test.yaml: sites[0].proxysql.port: port 15080 is also used by x-lab.s3Port')),
    problems.join('\n'),
  );
});

test('drctl refuses bad input with exit 2 naming the flag and the config, before connecting to Temporal', () => {
  // temporal.address in example.yaml is not reachable here: a refusal must come before any connection.
  const cases: Array<[string[], RegExp]> = [
    [
      ['start', 'failover', '--from', 'hk', '--to', 'sg', '--reason', 'r', '--by', 'ops-lead'],
      /--from: .*example\.yaml: sites: unknown site 'hk' \(known sites: tw, sg\)/,
    ],
    [
      ['start', 'failover', '--group', 'fx', '--from', 'tw', '--to', 'sg', '--reason', 'r', '--by', 'ops-lead'],
      /example\.yaml: groups: unknown group 'fx'/,
    ],
    [
      ['start', 'failover', '--from', 'tw', '--to', 'sg', '--mode', 'sideways', '--reason', 'r', '--by', 'ops-lead'],
      /--mode must be planned or unplanned, not 'sideways'/,
    ],
    [
      ['start', 'site-failover', '--site', 'hk', '--to', 'sg', '--reason', 'r', '--by', 'ops-lead'],
      /--site: .*unknown site 'hk' \(known sites: tw, sg\)/,
    ],
    [['start', 'site-failover', '--site', 'tw', '--to', 'tw', '--reason', 'r', '--by', 'ops-lead'], /--site and --to are both 'tw'/],
    [['start', 'site-failover', '--site', 'tw', '--reason', 'r', '--by', 'ops-lead'], /--to is required/],
    [['start', 'failback', '--returning', 'hk', '--current', 'sg', '--reason', 'r', '--by', 'ops-lead'], /--returning: .*unknown site 'hk'/],
    [['start', 'failback', '--returning', 'sg', '--current', 'sg', '--reason', 'r', '--by', 'ops-lead'], /--returning and --current are both 'sg'/],
    [['start', 'failback', '--returning', 'tw', '--current', 'sg', '--by', 'ops-lead'], /--reason is required/],
    [
      ['start', 'chaos'],
      /start what\? one of preflight, failover, site-failover, failback, file-sync, restore-files, drill \(got 'chaos'\); see drctl --help/,
    ],
    [['start', 'drill', '--reason', 'r', '--by', 'ops-lead'], /--scenario is required/],
    [
      ['start', 'drill', '--scenario', 'meteor', '--reason', 'r', '--by', 'ops-lead'],
      /--scenario must be one of power-loss, isolation, city-loss, switchover-round-trip, not 'meteor'/,
    ],
    [['start', 'drill', '--scenario', 'isolation', '--site', 'hk', '--reason', 'r', '--by', 'ops-lead'], /--site: .*unknown site 'hk'/],
    [
      ['start', 'drill', '--scenario', 'isolation', '--recovery', 'luck', '--reason', 'r', '--by', 'ops-lead'],
      /--recovery must be runbook or detection/,
    ],
    [['abort', 'drill-trading', '--by', 'ops-lead'], /--reason is required/],
    [['start', 'file-sync', '--site', 'hk'], /--site: .*example\.yaml: sites: unknown site 'hk' \(known sites: tw, sg\)/],
    [['start', 'file-sync', '--site', 'tw', '--kind', 'hourly'], /--kind must be incremental or full, not 'hourly'/],
    [['start', 'file-sync', '--site', 'tw', '--max-delete-share', '50%'], /--max-delete-share must be a number from 0 to 1, not '50%'/],
    [['start', 'restore-files'], /--to is required/],
    [['start', 'failover', '--form', 'tw'], /^Unknown option '--form'; see drctl --help$/m],
    [['promote'], /^unknown command 'promote'\nusage: drctl COMMAND/],
  ];
  for (const [args, expect] of cases) {
    const r = tsx('cli/drctl.ts', '--config', example, ...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, expect, args.join(' '));
  }
  const help = tsx('cli/drctl.ts', '--help');
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /start file-sync --site SITE \[--kind incremental\|full\]/);
});
