// Signed decisions end to end outside a workflow: keys made by the real ssh-keygen, statements signed by drctl's
// signer (from a key file and through a real ssh-agent), verified by the control activity; and every way a
// statement is refused.
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoadedConfig } from '../../config/load';
import { canonical, parseStatement, type Statement } from '../../domain/approval-statement';
import { approvalVerifier } from '../../activities/approval-verify';
import { KeyError, parsePrivateKey, parsePublicKey } from '../../activities/ssh-keys';
import { signDecision, SignError, type Unsigned } from '../../cli/sign';

const dir = mkdtempSync(join(tmpdir(), 'dr-sign-'));
const keygen = (name: string, pass = '') => {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', pass, '-C', name, '-f', join(dir, name)]);
  return readFileSync(join(dir, `${name}.pub`), 'utf8').trim();
};
const leadKey = keygen('ops-lead');
keygen('dba-oncall');
keygen('intruder');
keygen('locked', 'a passphrase');

function configWith(approval: Record<string, unknown> = {}): LoadedConfig {
  return {
    file: 'dr.yaml',
    baseDir: dir,
    config: {
      approval: {
        policy: 'manual',
        approvers: [{ name: 'ops-lead', key: leadKey }, { name: 'dba-oncall', key: 'file:dba-oncall.pub' }, 'cto'],
        requireSignature: false,
        maxAge: '10m',
        quorum: 1,
        ...approval,
      },
    },
  } as unknown as LoadedConfig;
}

const decision = (over: Partial<Unsigned> = {}): Unsigned => ({
  workflowId: 'failover-trading',
  runId: 'run-1',
  action: 'gate',
  step: 'gate',
  decision: 'approve',
  by: 'ops-lead',
  reason: 'planned switchover',
  ...over,
});
const expect = { workflowId: 'failover-trading', runId: 'run-1', action: 'gate', step: 'gate' } as const;
const keyFile = (name: string) => `file:${join(dir, name)}`;

let agent: ChildProcess | undefined;
const agentSocket = join(dir, 'agent.sock');

before(async () => {
  agent = spawn('ssh-agent', ['-D', '-a', agentSocket], { stdio: 'ignore' });
  for (let i = 0; i < 50; i++) {
    try {
      execFileSync('ssh-add', [join(dir, 'dba-oncall')], { env: { ...process.env, SSH_AUTH_SOCK: agentSocket }, stdio: 'pipe' });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error('ssh-agent did not start');
});

after(() => {
  agent?.kill();
  rmSync(dir, { recursive: true, force: true });
});

test('keys read from OpenSSH formats have the fingerprints ssh-keygen gives them', () => {
  const pub = parsePublicKey(leadKey);
  const printed = execFileSync('ssh-keygen', ['-lf', join(dir, 'ops-lead.pub')], { encoding: 'utf8' }).split(' ')[1];
  assert.equal(pub.fingerprint, printed);
  assert.equal(parsePrivateKey(readFileSync(join(dir, 'ops-lead'), 'utf8')).publicKey.fingerprint, printed);
  assert.throws(() => parsePrivateKey(readFileSync(join(dir, 'locked'), 'utf8')), /encrypted .*ssh-agent/);
  assert.throws(() => parsePublicKey('ssh-rsa AAAAB3NzaC1yc2E= x'), KeyError);
});

test('a statement has one canonical form: anything else is refused', () => {
  const s: Statement = { ...decision(), issuedAt: '2026-12-01T10:00:00.000Z', nonce: 'n1' };
  assert.deepEqual(parseStatement(canonical(s)), s);
  assert.match(String(parseStatement(JSON.stringify(s, null, 1))), /canonical/);
  assert.match(String(parseStatement(canonical({ ...s, decision: 'retry' }))), /does not answer a gate/);
  assert.match(String(parseStatement('{"by":"x"}')), /statement\.workflowId: required/);
});

test('signed with the key file: verified; every altered, misdirected, stale or foreign statement is refused', async () => {
  const loaded = configWith();
  const verify = approvalVerifier(loaded);
  const signed = (await signDecision(loaded, decision(), keyFile('ops-lead'), undefined))!;
  const ok = await verify({ signed, expect });
  assert.ok(ok.ok, JSON.stringify(ok));
  assert.equal(ok.ok && ok.statement.by, 'ops-lead');

  const refused = async (s: typeof signed, e = expect as typeof expect | Record<string, string>) => {
    const v = await verify({ signed: s, expect: e as typeof expect });
    assert.ok(!v.ok, 'refused');
    return v.ok ? '' : v.why;
  };
  // Forged: the statement edited after signing (another approver's name, or a different decision).
  assert.match(
    await refused({ ...signed, statement: signed.statement.replace('ops-lead', 'dba-oncall') }),
    /does not verify against dba-oncall's key/,
  );
  assert.match(await refused({ ...signed, statement: signed.statement.replace('"approve"', '"reject"') }), /does not verify/);
  // Signed with a key that is not the approver's.
  const intruder = await signDecision(
    configWith({ approvers: [{ name: 'ops-lead', key: readFileSync(join(dir, 'intruder.pub'), 'utf8').trim() }] }),
    decision(),
    keyFile('intruder'),
    undefined,
  );
  assert.match(await refused(intruder!), /does not verify against ops-lead's key/);
  // For another run, another action, another step.
  assert.match(await refused(signed, { ...expect, runId: 'run-2' }), /signed for run failover-trading\/run-1, not this one/);
  assert.match(await refused(signed, { ...expect, action: 'step' }), /signed for a gate, not a step/);
  assert.match(await refused(signed, { ...expect, step: 'errant gate' }), /signed for 'gate', but the run waits at 'errant gate'/);
  // Stale: the verifier's clock an hour on.
  const later = approvalVerifier(loaded, () => Date.now() + 3_600_000);
  const v = await later({ signed, expect });
  assert.ok(!v.ok && /stale: signed 3600 s ago/.test(v.why), JSON.stringify(v));
  // An approver listed without a key cannot sign at all.
  await assert.rejects(signDecision(configWith({ requireSignature: true }), decision({ by: 'cto' }), keyFile('ops-lead'), undefined), SignError);
});

test('drctl refuses a key file that is not the approver’s, before anything is sent', async () => {
  await assert.rejects(
    signDecision(configWith(), decision(), keyFile('intruder'), undefined),
    /the key in .*intruder is SHA256:.*, but ops-lead's configured key is SHA256:/,
  );
});

test('signed through ssh-agent: verified against the configured key; a key the agent lacks is named', async () => {
  const loaded = configWith({ requireSignature: true });
  const signed = (await signDecision(loaded, decision({ by: 'dba-oncall' }), undefined, agentSocket))!;
  const v = await approvalVerifier(loaded)({ signed, expect });
  assert.ok(v.ok, JSON.stringify(v));
  await assert.rejects(signDecision(loaded, decision({ by: 'ops-lead' }), undefined, agentSocket), /must be signed: .*add SHA256:.* to ssh-agent/);
});

test('without a key and without requireSignature the decision goes unsigned, as before', async () => {
  assert.equal(await signDecision(configWith(), decision({ by: 'cto' }), undefined, undefined), undefined);
  assert.equal(await signDecision(configWith(), decision(), undefined, undefined), undefined);
});
