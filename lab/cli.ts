// npm run lab -- up|down|status|destroy|power-off SITE|power-on SITE|isolate SITE [--from SITE]|heal [SITE] [--config FILE]
import { parseArgs } from 'node:util';
// Node 20 is what the machine has; the AWS SDK's notice about Node 22 says nothing new.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
import { ConfigError, EXIT_BAD_INPUT, loadConfig } from '../config/load';
import { Lab } from '.';
import { powerOff, powerOn } from './faults';
import { groupsConfigFile } from './groups';
import { LabInputError, formatReachability } from './network';
import { formatTopology, topology } from './topology';

const USAGE =
  'usage: lab up|down|status|destroy [--config FILE] [--json]\n' +
  '       lab power-off SITE | power-on SITE       kill -9 every process of a site / start them again on their data\n' +
  '       lab isolate SITE [--from SITE] | heal [SITE]   cut a site off (everything in it keeps running) / restore its links\n' +
  '       lab groups N [--config FILE]             write a copy of the config with N more groups (a MariaDB per site each) and print its path';

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { config: { type: 'string' }, json: { type: 'boolean' }, from: { type: 'string' } },
    allowPositionals: true,
  });
  const [cmd, site] = positionals;
  const needSite = () => {
    if (site) return site;
    console.error(`lab ${cmd}: which site? (${lab.network.sites.join(', ')})\n${USAGE}`);
    process.exit(EXIT_BAD_INPUT);
  };
  const print = (lines: string[]) => lines.forEach((l) => console.log(l));
  const configFile = values.config ?? process.env.DR_CONFIG ?? 'config/lab.yaml';
  if (cmd === 'groups') return void console.log(groupsConfigFile(configFile, Number(site)));
  const lab = new Lab(loadConfig(configFile));
  switch (cmd) {
    case 'up':
      return lab.up();
    case 'down':
      return lab.down();
    case 'destroy':
      return lab.destroy();
    case 'power-off':
      return print(await powerOff(lab, needSite()));
    case 'power-on':
      return print(await powerOn(lab, needSite()));
    case 'isolate': {
      const cut = lab.network.isolate(needSite(), values.from);
      return print(cut.length ? cut : ['nothing to cut']);
    }
    case 'heal': {
      const healed = lab.network.heal(site);
      return print(healed.length ? healed.map((l) => `healed ${l}`) : ['every link was up']);
    }
    case 'status': {
      const rows = await lab.status();
      if (values.json) return void console.log(JSON.stringify(rows, null, 2));
      for (const r of rows) {
        console.log(
          `${r.component.padEnd(16)} pid ${String(r.pid ?? '-').padEnd(8)} port ${String(r.port ?? '-').padEnd(6)} ${r.health}${r.detail ? `  ${r.detail}` : ''}`,
        );
      }
      console.log(`\nreplication\n${formatTopology(await topology(lab.loaded, lab.dirs)).join('\n')}`);
      if (lab.network.enabled && !lab.network.whyNot())
        console.log(`\nreachability (row reaches column)\n${formatReachability(await lab.network.reachability())}`);
      if (rows.some((r) => r.health === 'down')) process.exitCode = 1;
      return;
    }
    default:
      console.error(USAGE);
      process.exitCode = EXIT_BAD_INPUT;
  }
}

main().catch((err) => {
  if (err instanceof ConfigError || err instanceof LabInputError) {
    console.error(err.message);
    process.exit(EXIT_BAD_INPUT);
  }
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
