// activities/notify.ts against real local receivers: an HTTP server for the Slack-compatible webhook and an
// SMTP server (smtp-server). Run: node --import tsx --test test/notify.test.ts
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { parseConfig } from '../../config/load';
import { NoticeError, sendNotice, type NotificationsConfig } from '../../activities/notify';
import { startSmtpReceiver, startWebhookReceiver, type SmtpReceiver, type WebhookReceiver } from '../helpers/receivers';
import { freePort } from '../helpers/ports';

const SMTP_PASSWORD = 'smtp-pass-do-not-leak';
const HOOK_TOKEN = 'XOXB-HOOK-TOKEN-do-not-leak';
let slack: WebhookReceiver;
let failing: WebhookReceiver;
let smtp: SmtpReceiver;
let deadPort: number;

/** The notifications section, through the real config parser (so escalateTo is cross-checked too). */
function notifications(section: unknown): NotificationsConfig {
  const text = `
name: notify-test
objectives: { rtoSeconds: 30, rpoSeconds: 300 }
sites:
  - { id: tw, role: primary, name: Taiwan, mysql: { host: 127.0.0.1, port: 1, user: dr, password: 'env:UNUSED' } }
  - { id: sg, role: dr, name: Singapore, mysql: { host: 127.0.0.1, port: 2, user: dr, password: 'env:UNUSED' } }
groups: [{ id: trading, sites: [tw, sg] }]
approval: { policy: auto }
notifications: ${JSON.stringify(section)}
`;
  return parseConfig(text, 'notify-test.yaml').config.notifications;
}

const mail = (name: string, port: number, to: string[]) => ({
  name,
  host: '127.0.0.1',
  port,
  user: 'dr-bot',
  password: 'env:DR_NOTIFY_TEST_SMTP',
  from: 'dr-bot@lab.test',
  to,
});

let config: NotificationsConfig;

before(async () => {
  process.env.DR_NOTIFY_TEST_SMTP = SMTP_PASSWORD;
  slack = await startWebhookReceiver();
  failing = await startWebhookReceiver({ status: 500 });
  smtp = await startSmtpReceiver();
  deadPort = await freePort();
  process.env.DR_NOTIFY_TEST_HOOK = slack.url;
  process.env.DR_NOTIFY_TEST_DEAD_HOOK = `http://127.0.0.1:${deadPort}/services/${HOOK_TOKEN}`;
  config = notifications({
    webhooks: [{ name: 'slack-dr', url: 'env:DR_NOTIFY_TEST_HOOK' }],
    email: [mail('ops-mail', smtp.port, ['sre@lab.test', 'dba@lab.test']), mail('oncall-mail', smtp.port, ['oncall@lab.test'])],
    escalateTo: ['oncall-mail'],
  });
});

beforeEach(() => {
  slack.received.length = 0;
  failing.received.length = 0;
  smtp.received.length = 0;
  smtp.logins.length = 0;
});

after(async () => {
  await Promise.all([slack?.close(), failing?.close(), smtp?.close()]);
  for (const k of ['DR_NOTIFY_TEST_SMTP', 'DR_NOTIFY_TEST_HOOK', 'DR_NOTIFY_TEST_DEAD_HOOK']) delete process.env[k];
});

const notice = {
  title: 'Failover trading: tw → sg started',
  severity: 'warning' as const,
  text: 'Fencing <tw> & promoting sg',
  fields: { group: 'trading', from: 'tw', to: 'sg' },
};

test('a notice reaches the webhook (Slack format) and the e-mail target, not the escalation-only one', async () => {
  const results = await sendNotice({ notifications: config, baseDir: '/', notice });
  assert.deepEqual(
    results.map((r) => ({ target: r.target, kind: r.kind, ok: r.ok, escalation: r.escalation, error: r.error })),
    [
      { target: 'slack-dr', kind: 'webhook', ok: true, escalation: false, error: undefined },
      { target: 'ops-mail', kind: 'email', ok: true, escalation: false, error: undefined },
    ],
  );
  assert.match(results[1]!.messageId!, /^<.+@.+>$/);

  assert.equal(slack.received.length, 1);
  const payload = slack.received[0];
  assert.equal(payload.text, '[WARNING] Failover trading: tw → sg started\nFencing &lt;tw&gt; &amp; promoting sg');
  assert.deepEqual(payload.blocks, [
    { type: 'header', text: { type: 'plain_text', text: ':warning: Failover trading: tw → sg started', emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: 'Fencing &lt;tw&gt; &amp; promoting sg' } },
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: '*group*\ntrading' },
        { type: 'mrkdwn', text: '*from*\ntw' },
        { type: 'mrkdwn', text: '*to*\nsg' },
      ],
    },
    { type: 'context', elements: [{ type: 'mrkdwn', text: 'severity: *warning*' }] },
  ]);

  assert.equal(smtp.received.length, 1);
  const m = smtp.received[0]!;
  assert.equal(m.from, 'dr-bot@lab.test');
  assert.deepEqual(m.to, ['sre@lab.test', 'dba@lab.test']);
  assert.equal(m.subject, '[WARNING] Failover trading: tw → sg started');
  assert.equal(m.text, 'Failover trading: tw → sg started\nSeverity: warning\n\nFencing <tw> & promoting sg\n\ngroup: trading\nfrom: tw\nto: sg\n');
  assert.doesNotMatch(m.text, /ESCALATION/);
  assert.deepEqual(smtp.logins, [{ username: 'dr-bot', password: SMTP_PASSWORD }]);
});

test('an escalation also goes to the escalateTo target and says so', async () => {
  const results = await sendNotice({
    notifications: config,
    baseDir: '/',
    notice: { ...notice, severity: 'critical', escalate: true },
    targets: ['slack-dr'],
  });
  assert.deepEqual(
    results.map((r) => `${r.target}:${r.ok}:${r.escalation}`),
    ['slack-dr:true:false', 'oncall-mail:true:true'],
  );
  assert.equal(smtp.received.length, 1);
  const m = smtp.received[0]!;
  assert.deepEqual(m.to, ['oncall@lab.test']);
  assert.equal(m.subject, '[CRITICAL] ESCALATION: Failover trading: tw → sg started');
  assert.match(m.text, /^ESCALATION: this notice was escalated to oncall-mail\.\n/);
  assert.equal(m.headers['x-priority'], '1 (Highest)');

  const payload = slack.received[0];
  assert.match(payload.text, /^\[CRITICAL\] ESCALATION: Failover trading/);
  assert.equal(payload.blocks[0].text.text, ':rotating_light: ESCALATION: Failover trading: tw → sg started');
  assert.deepEqual(payload.blocks.at(-1), {
    type: 'context',
    elements: [{ type: 'mrkdwn', text: 'severity: *critical* · escalation to oncall-mail' }],
  });
});

test('one dead target and one live: no throw, the failure is in the results', async () => {
  const cfg = notifications({
    webhooks: [
      { name: 'slack-dr', url: 'env:DR_NOTIFY_TEST_HOOK' },
      { name: 'dead-hook', url: 'env:DR_NOTIFY_TEST_DEAD_HOOK' },
      { name: 'broken-hook', url: failing.url },
    ],
    email: [mail('dead-mail', deadPort, ['sre@lab.test'])],
  });
  const results = await sendNotice({
    notifications: cfg,
    baseDir: '/',
    notice,
    targets: ['dead-hook', 'slack-dr', 'broken-hook', 'dead-mail', 'pager'],
  });
  const by = Object.fromEntries(results.map((r) => [r.target, r]));
  assert.deepEqual(
    results.map((r) => `${r.target}:${r.kind}:${r.ok}`),
    ['dead-hook:webhook:false', 'slack-dr:webhook:true', 'broken-hook:webhook:false', 'dead-mail:email:false', 'pager:unknown:false'],
  );
  assert.equal(slack.received.length, 1);
  assert.match(by['dead-hook']!.error!, /^webhook dead-hook \(env:DR_NOTIFY_TEST_DEAD_HOOK\): fetch failed: .*ECONNREFUSED/);
  assert.match(by['broken-hook']!.error!, /^webhook broken-hook \(http:\/\/127\.0\.0\.1:\d+\): HTTP 500: no_service$/);
  assert.equal(failing.received.length, 1, 'the failing receiver got the payload and answered 500');
  assert.match(by['dead-mail']!.error!, new RegExp(`^email dead-mail \\(smtp 127\\.0\\.0\\.1:${deadPort}\\): .*ECONNREFUSED`));
  assert.equal(by['pager']!.error, "unknown notification target 'pager' (known: slack-dr, dead-hook, broken-hook, dead-mail)");
  for (const r of results) {
    assert.doesNotMatch(r.error ?? '', new RegExp(HOOK_TOKEN));
    assert.doesNotMatch(r.error ?? '', new RegExp(SMTP_PASSWORD));
  }
});

test('every target dead: throws, naming each failure, without secrets', async () => {
  const cfg = notifications({
    webhooks: [{ name: 'dead-hook', url: 'env:DR_NOTIFY_TEST_DEAD_HOOK' }],
    email: [mail('dead-mail', deadPort, ['sre@lab.test'])],
  });
  await assert.rejects(sendNotice({ notifications: cfg, baseDir: '/', notice }), (err: unknown) => {
    assert.ok(err instanceof NoticeError);
    assert.match(
      err.message,
      /^notice 'Failover trading: tw → sg started' reached no target: webhook dead-hook \(env:DR_NOTIFY_TEST_DEAD_HOOK\): .*; email dead-mail \(smtp 127\.0\.0\.1:\d+\): /,
    );
    assert.deepEqual(
      err.results.map((r) => `${r.target}:${r.ok}`),
      ['dead-hook:false', 'dead-mail:false'],
    );
    assert.doesNotMatch(err.message, new RegExp(`${HOOK_TOKEN}|${SMTP_PASSWORD}`));
    return true;
  });
});

test('an unresolvable secret fails only its own target and names the reference', async () => {
  const cfg = notifications({
    webhooks: [{ name: 'slack-dr', url: 'env:DR_NOTIFY_TEST_HOOK' }],
    email: [{ ...mail('ops-mail', smtp.port, ['sre@lab.test']), password: 'env:DR_NOTIFY_TEST_NOT_SET' }],
  });
  const results = await sendNotice({ notifications: cfg, baseDir: '/', notice });
  assert.deepEqual(
    results.map((r) => `${r.target}:${r.ok}`),
    ['slack-dr:true', 'ops-mail:false'],
  );
  assert.match(results[1]!.error!, /secret env:DR_NOTIFY_TEST_NOT_SET: environment variable DR_NOTIFY_TEST_NOT_SET is not set/);
  assert.equal(smtp.received.length, 0);
});
