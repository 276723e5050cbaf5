// npm run lab -- up|down|status|destroy [--config FILE]
import { parseArgs } from 'node:util';
import { ConfigError, EXIT_BAD_INPUT, loadConfig } from '../config/load';
import { Lab } from '.';

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ options: { config: { type: 'string' }, json: { type: 'boolean' } }, allowPositionals: true });
  const cmd = positionals[0];
  const lab = new Lab(loadConfig(values.config ?? process.env.DR_CONFIG ?? 'config/lab.yaml'));
  switch (cmd) {
    case 'up':
      return lab.up();
    case 'down':
      return lab.down();
    case 'destroy':
      return lab.destroy();
    case 'status': {
      const rows = await lab.status();
      if (values.json) return void console.log(JSON.stringify(rows, null, 2));
      for (const r of rows) {
        console.log(
          `${r.component.padEnd(16)} pid ${String(r.pid ?? '-').padEnd(8)} port ${String(r.port ?? '-').padEnd(6)} ${r.health}${r.detail ? `  ${r.detail}` : ''}`,
        );
      }
      if (rows.some((r) => r.health === 'down')) process.exitCode = 1;
      return;
    }
    default:
      console.error('usage: lab up|down|status|destroy [--config FILE] [--json]');
      process.exitCode = EXIT_BAD_INPUT;
  }
}

main().catch((err) => {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(EXIT_BAD_INPUT);
  }
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
