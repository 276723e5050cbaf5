// Reads and validates a config file. Every problem is reported as `file: path.to.field: message`.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument, isNode } from 'yaml';
import { crossCheck } from './rules';
import { config as schema, type Config, type Site } from './schema';

export interface LoadedConfig {
  file: string;
  /** Relative paths in the config (kubeconfigs, file: secrets) are taken from here. */
  baseDir: string;
  config: Config;
  /** Top-level keys that begin with `x-`: extensions for other tools, which the product ignores. */
  extensions: Record<string, unknown>;
}

/** The config named by --config, else $DR_CONFIG, else ./dr.yaml; a missing default says how to name one. */
export function loadNamedConfig(named: string | undefined): LoadedConfig {
  const file = named ?? process.env.DR_CONFIG ?? 'dr.yaml';
  if (named === undefined && !existsSync(file)) {
    const source = process.env.DR_CONFIG === undefined ? 'the default ./dr.yaml' : '$DR_CONFIG';
    throw new ConfigError(file, [`${file}: no config file here (${source}); pass --config FILE or set DR_CONFIG`]);
  }
  return loadConfig(file);
}

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || '(top level)';
}

export function loadConfig(file: string): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [`${file}: cannot read the file: ${(err as Error).message}`]);
  }
  return parseConfig(text, file);
}

export function parseConfig(text: string, file: string): LoadedConfig {
  const lines = new LineCounter();
  const doc = yamlOrRefusal(file, () => parseDocument(text, { lineCounter: lines, uniqueKeys: true }));
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => `${file}: line ${e.linePos?.[0]?.line ?? '?'}: YAML: ${e.message.split('\n')[0]}`),
    );
  }
  const { raw, extensions } = splitExtensions(yamlOrRefusal(file, () => doc.toJS()));
  const result = schema.safeParse(raw);
  const lineOf = (path: readonly PropertyKey[]): string => {
    for (let n = path.length; n > 0; n--) {
      const node = doc.getIn(path.slice(0, n) as unknown[], true);
      if (isNode(node) && node.range) return ` (line ${lines.linePos(node.range[0]).line})`;
    }
    return '';
  };
  const problems = [
    ...(result.success ? [] : result.error.issues).flatMap((issue) => {
      if (issue.code === 'unrecognized_keys') {
        return issue.keys.map((k) => `${file}: ${formatPath([...issue.path, k])}: unknown key${lineOf([...issue.path, k])}`);
      }
      const message =
        issue.code === 'invalid_type' && /received undefined/.test(issue.message)
          ? `required (${issue.message.replace('Invalid input: ', '').replace(', received undefined', '')})`
          : issue.message;
      return [`${file}: ${formatPath(issue.path)}: ${message}${lineOf(issue.path)}`];
    }),
    ...crossCheck(raw).map((p) => `${file}: ${formatPath(p.path)}: ${p.message}${lineOf(p.path)}`),
  ];
  if (problems.length > 0 || !result.success) throw new ConfigError(file, [...new Set(problems)]);
  return { file, baseDir: dirname(resolve(file)), config: result.data, extensions };
}

/**
 * Runs a step of the YAML parser, turning whatever it throws into a ConfigError that names the file. An alias
 * bomb (aliases of aliases, each expanding the last) is refused by the parser's alias count, not expanded.
 */
function yamlOrRefusal<T>(file: string, step: () => T): T {
  try {
    return step();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const why = /alias count/i.test(message) ? 'too many aliases (an alias bomb?)' : message.split('\n')[0];
    throw new ConfigError(file, [`${file}: YAML: ${why}`]);
  }
}

function splitExtensions(doc: unknown): { raw: unknown; extensions: Record<string, unknown> } {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return { raw: doc, extensions: {} };
  const raw: Record<string, unknown> = {};
  const extensions: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc)) (k.startsWith('x-') ? extensions : raw)[k] = v;
  return { raw, extensions };
}

/** A site by id, or an error that names the known ones. */
/**
 * A site as one group sees it: the group's own server (and ProxySQL hostgroups) in place of the site's, and no
 * HAProxy, which fronts the site's own servers. The site itself for a group without servers of its own.
 */
export function siteInGroup(config: Config, site: Site, groupId: string | undefined): Site {
  const group = groupId === undefined ? undefined : config.groups.find((g) => g.id === groupId);
  const own = group?.databases?.[site.id];
  if (!group || !own) return site;
  return {
    ...site,
    haproxy: undefined,
    mysql: { ...site.mysql, host: own.host, port: own.port },
    proxysql: site.proxysql && group.proxysql ? { ...site.proxysql, ...group.proxysql } : site.proxysql,
  };
}

/** The whole config as one group sees it: every site through siteInGroup. */
export function groupView(loaded: LoadedConfig, groupId: string | undefined): LoadedConfig {
  if (groupId === undefined || !loaded.config.groups.find((g) => g.id === groupId)?.databases) return loaded;
  return { ...loaded, config: { ...loaded.config, sites: loaded.config.sites.map((s) => siteInGroup(loaded.config, s, groupId)) } };
}

export function siteById(loaded: LoadedConfig, id: string): Site {
  const s = loaded.config.sites.find((x) => x.id === id);
  if (!s) {
    throw new ConfigError(loaded.file, [
      `${loaded.file}: sites: unknown site '${id}' (known sites: ${loaded.config.sites.map((x) => x.id).join(', ')})`,
    ]);
  }
  return s;
}

/** Exit status for a bad config or bad input, as `config check` documents. */
export const EXIT_BAD_INPUT = 2;
