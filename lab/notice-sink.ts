// The lab's notice sink, so the demo and the lab tests show what a failover tells people. One daemon runs
// a Slack-style webhook receiver and an SMTP server on x-lab.notices, and appends every notice it receives
// to <stateDir>/notices.jsonl as {at, via, target, title, text}.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { LoadedConfig } from '../config/load';
import type { LabDirs } from './paths';
import { ROOT } from './paths';
import { alive, portOpen, readPid, startDaemon, tail, waitFor } from './procs';
import { placeOf } from './network';
import { startSmtpReceiver, startWebhookReceiver } from './receivers';
import { labOf } from './settings';

export const NOTICES = 'notices';

export interface SunkNotice {
  at: string;
  via: 'webhook' | 'email';
  /** 'slack webhook', or the mail's recipients. */
  target: string;
  title: string;
  text: string;
}

export const noticesFile = (dirs: LabDirs): string => join(dirs.state, 'notices.jsonl');

export function readNotices(dirs: LabDirs): SunkNotice[] {
  const f = noticesFile(dirs);
  if (!existsSync(f)) return [];
  return readFileSync(f, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as SunkNotice);
}

export async function startNoticeSink(loaded: LoadedConfig, dirs: LabDirs): Promise<'started' | 'running'> {
  const { webhookPort, smtpPort } = labOf(loaded).notices!;
  if (alive(readPid(dirs.pids, NOTICES))) return 'running';
  const { host, netns } = placeOf(loaded);
  for (const [p, field] of [
    [webhookPort, 'x-lab.notices.webhookPort'],
    [smtpPort, 'x-lab.notices.smtpPort'],
  ] as const) {
    if (await portOpen(p, host))
      throw new Error(`port ${p} for the lab's notice sink is busy: something else listens there (change ${field} in ${loaded.file})`);
  }
  startDaemon({
    name: NOTICES,
    command: process.execPath,
    cwd: ROOT,
    pidsDir: dirs.pids,
    logsDir: dirs.logs,
    port: webhookPort,
    netns,
    args: [
      '--import',
      'tsx',
      __filename,
      '--host',
      host,
      '--webhook-port',
      String(webhookPort),
      '--smtp-port',
      String(smtpPort),
      '--out',
      noticesFile(dirs),
    ],
  });
  const rec = readPid(dirs.pids, NOTICES);
  const log = join(dirs.logs, `${NOTICES}.log`);
  await waitFor(
    `notice sink on ports ${webhookPort}, ${smtpPort}`,
    async () => {
      if (!alive(rec)) throw new Error(`the notice sink exited during start-up:\n${tail(log)}`);
      return (await portOpen(webhookPort, host)) && (await portOpen(smtpPort, host));
    },
    30_000,
    log,
  );
  return 'started';
}

async function main(): Promise<void> {
  const { values: o } = parseArgs({
    options: { host: { type: 'string' }, 'webhook-port': { type: 'string' }, 'smtp-port': { type: 'string' }, out: { type: 'string' } },
  });
  const write = (n: Omit<SunkNotice, 'at'>) => appendFileSync(o.out!, JSON.stringify({ at: new Date().toISOString(), ...n }) + '\n');
  const hook = await startWebhookReceiver({
    host: o.host,
    port: Number(o['webhook-port']),
    onReceive: (body) =>
      write({
        via: 'webhook',
        target: 'slack webhook',
        title: String(body.text ?? '').split('\n')[0] ?? '',
        text: String(body.text ?? JSON.stringify(body)),
      }),
  });
  const smtp = await startSmtpReceiver({
    host: o.host,
    port: Number(o['smtp-port']),
    onReceive: (m) => write({ via: 'email', target: m.to.join(', '), title: m.subject, text: m.text }),
  });
  console.log(`notice sink: webhook ${hook.url.replace(/\/services.*/, '')}, smtp ${o.host ?? '127.0.0.1'}:${smtp.port}, writing ${o.out}`);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
