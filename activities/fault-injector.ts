// The drill's fault injector of kind `command`: one shell command per fault and its heal, from the config (an
// IPMI power-off, a firewall rule; in the lab, the lab's own fault commands). Commands are idempotent by
// contract: a retried power-off finds the site off, a retried heal finds the links up.
import { ApplicationFailure, Context } from '@temporalio/activity';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import type { FaultKind } from '../domain/drill';

export interface InjectorCommands {
  cwd: string;
  timeoutMs: number;
  /** The config file's absolute path, for `{config}`. */
  configFile: string;
  commands: Partial<Record<FaultKind, { inject: string; heal: string }>>;
}

export interface FaultRun {
  fault: FaultKind;
  action: 'inject' | 'heal';
  site: string;
  command: string;
  exitCode: number;
  /** When the command returned: for an injection, the moment the fault is in place. */
  at: number;
  ms: number;
  output: string;
}

export async function runFault(c: InjectorCommands, i: { fault: FaultKind; action: 'inject' | 'heal'; site: string }): Promise<FaultRun> {
  const template = c.commands[i.fault]?.[i.action];
  if (!template) throw ApplicationFailure.nonRetryable(`drills.injector: no ${i.fault}.${i.action} command configured`, 'BadConfig');
  const command = template.replaceAll('{site}', i.site).replaceAll('{config}', c.configFile);
  const t0 = Date.now();
  const { code, output } = await shell(command, resolve(c.cwd), c.timeoutMs);
  const run: FaultRun = { ...i, command, exitCode: code, at: Date.now(), ms: Date.now() - t0, output: output.slice(-2000) };
  if (code !== 0)
    throw ApplicationFailure.retryable(
      `${i.fault} ${i.action} of ${i.site}: \`${command}\` exited ${code}: ${run.output.trim()}`,
      'FaultCommandFailed',
    );
  return run;
}

function shell(command: string, cwd: string, timeoutMs: number): Promise<{ code: number; output: string }> {
  return new Promise((done) => {
    const child = spawn('sh', ['-c', command], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (d: Buffer) => (output = (output + d.toString()).slice(-8000));
    // Alive while the command runs, so a worker lost meanwhile is noticed in seconds, not at the timeout.
    const alive = setInterval(() => Context.current().heartbeat(), 1000);
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => (child.kill('SIGKILL'), (output += `\n(killed after ${timeoutMs} ms)`)), timeoutMs);
    const end = (result: { code: number; output: string }) => (clearTimeout(timer), clearInterval(alive), done(result));
    child.on('error', (err) => end({ code: 127, output: err.message }));
    child.on('close', (code) => end({ code: code ?? 1, output }));
  });
}
