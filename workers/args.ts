// Command-line handling shared by the workers: the config is checked before anything connects.
import { parseArgs } from 'node:util';
import { ConfigError, EXIT_BAD_INPUT, loadNamedConfig, type LoadedConfig } from '../config/load';

export function workerArgs(withSite: boolean): { loaded: LoadedConfig; site?: string } {
  const { values } = parseArgs({
    options: { config: { type: 'string' }, site: { type: 'string' } },
    strict: true,
  });
  try {
    const loaded = loadNamedConfig(values.config);
    if (withSite && !values.site) {
      fail(`--site is required (known sites: ${loaded.config.sites.map((s) => s.id).join(', ')})`);
    }
    return { loaded, site: values.site };
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
}

export function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(EXIT_BAD_INPUT);
}
