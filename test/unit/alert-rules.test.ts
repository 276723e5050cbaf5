// The alert rules the product ships, and the lab's Prometheus and Alertmanager configs, checked by the tools
// that will read them: promtool (rules, their unit tests, the config) and amtool. Debian's prometheus and
// prometheus-alertmanager packages carry both; without them this fails, naming the install.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { parse } from 'yaml';
import { loadConfig, type LoadedConfig } from '../../config/load';
import { RULES_DIR, ruleFiles, writePrometheusConfig } from '../../lab/prometheus';
import { writeAlertmanagerConfig } from '../../lab/alertmanager';

const ROOT = join(__dirname, '..', '..');

/** Runs a Debian tool; a missing one fails the test with the command that installs it. */
function tool(command: 'promtool' | 'amtool', args: string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if ((result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT')
    assert.fail(`${command} not found: run 'bash scripts/install.sh' (it installs Debian's prometheus and prometheus-alertmanager)`);
  const output = `${result.stdout}${result.stderr}`;
  assert.equal(result.status, 0, `${command} ${args.join(' ')}:\n${output}`);
  return output;
}

/** config/lab-test.yaml with detection switched on, as the detection tests run it. */
function labWithDetection(): LoadedConfig {
  const loaded = loadConfig(join(ROOT, 'config', 'lab-test.yaml'));
  assert.ok(loaded.config.detection, 'config/lab-test.yaml has a detection section');
  loaded.config.detection = { ...loaded.config.detection, enabled: true };
  return loaded;
}

test('promtool accepts every rule file in config/prometheus', () => {
  const files = ruleFiles();
  assert.ok(files.length > 0, `no *.rules.yml in ${RULES_DIR}`);
  assert.match(tool('promtool', ['check', 'rules', ...files]), /SUCCESS/);
});

test('the rules pass their unit tests (dr.rules.test.yml), every alert among them', () => {
  const testFile = join(RULES_DIR, 'dr.rules.test.yml');
  assert.match(tool('promtool', ['test', 'rules', testFile]), /SUCCESS/);
  const rules = parse(readFileSync(join(RULES_DIR, 'dr.rules.yml'), 'utf8')) as { groups: Array<{ rules: Array<{ alert?: string }> }> };
  const alerts = rules.groups.flatMap((g) => g.rules.flatMap((r) => (r.alert ? [r.alert] : [])));
  const tests = parse(readFileSync(testFile, 'utf8')) as { tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }> }> };
  const fired = new Set(tests.tests.flatMap((t) => (t.alert_rule_test ?? []).filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname)));
  assert.deepEqual(
    alerts.filter((a) => !fired.has(a)),
    [],
    'alerts that no test sees fire',
  );
});

test("the lab's Prometheus config passes promtool: each site's exporter and agent, the control worker, the rules", () => {
  const dir = mkdtempSync(join(tmpdir(), 'lab-prometheus-'));
  try {
    const { file } = writePrometheusConfig(labWithDetection(), dir);
    assert.match(tool('promtool', ['check', 'config', file]), /SUCCESS/);
    const config = parse(readFileSync(file, 'utf8'));
    assert.deepEqual(config.global, { scrape_interval: '1s', evaluation_interval: '1s', scrape_timeout: '900ms' });
    const job = (name: string) => config.scrape_configs.find((j: { job_name: string }) => j.job_name === name);
    assert.deepEqual(job('mysqld').static_configs, [
      { targets: ['198.18.1.1:15104'], labels: { site: 'tw', group: 'trading' } },
      { targets: ['198.18.1.2:15104'], labels: { site: 'tw2', group: 'trading' } },
      { targets: ['198.18.1.3:15104'], labels: { site: 'sg', group: 'trading' } },
    ]);
    assert.deepEqual(
      job('dr-agent').static_configs.map((c: { targets: string[] }) => c.targets[0]),
      ['198.18.1.1:15097', '198.18.1.2:15098', '198.18.1.3:15099'],
    );
    assert.equal(job('dr-agent').honor_labels, true);
    assert.deepEqual(job('dr-control').static_configs, [{ targets: ['198.18.1.4:15095'] }]);
    assert.deepEqual(config.rule_files, [join(RULES_DIR, 'dr.rules.yml')]);
    assert.deepEqual(config.alerting.alertmanagers[0].static_configs, [{ targets: ['198.18.1.4:15101'] }]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the lab's Alertmanager config passes amtool: every alert to the intake, resolved too, with the bearer token's file", () => {
  const dir = mkdtempSync(join(tmpdir(), 'lab-alertmanager-'));
  try {
    const { file } = writeAlertmanagerConfig(labWithDetection(), dir);
    assert.match(tool('amtool', ['check-config', file]), /SUCCESS/);
    const config = parse(readFileSync(file, 'utf8'));
    assert.deepEqual(config.route, {
      receiver: 'dr-intake',
      group_by: ['group', 'alertname'],
      group_wait: '0s',
      group_interval: '1s',
      repeat_interval: '1h',
    });
    const [webhook] = config.receivers[0].webhook_configs;
    assert.equal(webhook.url, 'http://198.18.1.4:15095/alerts');
    assert.equal(webhook.send_resolved, true);
    const { type, credentials_file } = webhook.http_config.authorization;
    assert.equal(type, 'Bearer');
    assert.ok(isAbsolute(credentials_file) && credentials_file.endsWith(join('.lab', 'test', 'secrets', 'alert-token')), credentials_file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('with detection off, Alertmanager sends nothing (a receiver with no integration), and amtool accepts it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lab-alertmanager-'));
  try {
    const loaded = loadConfig(join(ROOT, 'config', 'lab-test.yaml'));
    assert.equal(loaded.config.detection?.enabled, false, 'config/lab-test.yaml keeps detection off');
    const { file } = writeAlertmanagerConfig(loaded, dir);
    assert.match(tool('amtool', ['check-config', file]), /SUCCESS/);
    assert.deepEqual(parse(readFileSync(file, 'utf8')).receivers, [{ name: 'null' }]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
