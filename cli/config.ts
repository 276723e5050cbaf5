// npm run config -- check FILE...: validate configs; every problem as `file: path.to.field: message`, exit 2.
import { ConfigError, EXIT_BAD_INPUT, loadConfig } from '../config/load';

const [cmd, ...files] = process.argv.slice(2);
if (cmd !== 'check' || files.length === 0) {
  console.error('usage: config check FILE...');
  process.exit(EXIT_BAD_INPUT);
}
let bad = false;
for (const file of files) {
  try {
    const { config } = loadConfig(file);
    console.log(
      `${file}: ok (${config.sites.length} sites: ${config.sites.map((s) => `${s.id}=${s.role}`).join(', ')}; ${config.groups.length} group(s))`,
    );
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    bad = true;
  }
}
process.exit(bad ? EXIT_BAD_INPUT : 0);
