// Config errors: each bad config is refused with a ConfigError naming the file, the field path and, where
// the loader has one, the line. The base is config/example.yaml; a case changes one line of it, so the
// expected line number is the number of the line the case changed.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError, loadNamedConfig, parseConfig } from '../../config/load';

const exampleFile = join(__dirname, '..', '..', 'config', 'example.yaml');
const exampleText = readFileSync(exampleFile, 'utf8');

/**
 * The example with the `occurrence`-th line that starts with `start` changed: `start` is replaced by
 * `replacement` (the rest of the line, a comment say, stays), or the line goes when `replacement` is null.
 * Returns the text and the 1-based number of that line.
 */
function changeLine(start: string, replacement: string | null, occurrence = 1): { text: string; line: number } {
  const lines = exampleText.split('\n');
  const matches = lines.flatMap((line, index) => (line.startsWith(start) ? [index] : []));
  const index = matches[occurrence - 1];
  assert.ok(index !== undefined, `config/example.yaml has no line #${occurrence} starting with ${JSON.stringify(start)}`);
  if (replacement === null) lines.splice(index, 1);
  else lines[index] = replacement + lines[index]!.slice(start.length);
  return { text: lines.join('\n'), line: index + 1 };
}

/** The 1-based number of the `occurrence`-th line of the example that starts with `start`. */
function lineNumberOf(start: string, occurrence = 1): number {
  return changeLine(start, start, occurrence).line;
}

/** The problems a refused config is reported with; fails when the config is accepted or refused otherwise. */
function problemsOf(text: string): string[] {
  try {
    parseConfig(text, 'bad.yaml');
  } catch (error) {
    assert.ok(error instanceof ConfigError, `not a ConfigError: ${String(error)}`);
    assert.equal(error.name, 'ConfigError');
    assert.equal(error.file, 'bad.yaml');
    assert.equal(error.message, error.problems.join('\n'));
    for (const problem of error.problems) assert.ok(problem.startsWith('bad.yaml: '), `problem without the file name: ${problem}`);
    return error.problems;
  }
  assert.fail('the config was accepted');
}

function assertHas(problems: string[], expected: string): void {
  assert.ok(problems.includes(expected), `expected\n  ${expected}\namong\n  ${problems.join('\n  ')}`);
}

test('the example config is accepted as it is, with no extensions', () => {
  const loaded = parseConfig(exampleText, exampleFile);
  assert.equal(loaded.file, exampleFile);
  // Relative kubeconfigs and file: secrets are taken from the config's own folder.
  assert.equal(loaded.baseDir, dirname(exampleFile));
  assert.deepEqual(
    loaded.config.sites.map((site) => [site.id, site.role]),
    [
      ['tw', 'primary'],
      ['sg', 'dr'],
    ],
  );
  assert.deepEqual(loaded.extensions, {});
});

test('a YAML syntax error is refused with the line it is on, before any field is checked', () => {
  const { text, line } = changeLine('  rtoSeconds: 30', '  rtoSeconds: 30: 40');
  const problems = problemsOf(text);
  assert.ok(problems.length > 0);
  for (const problem of problems) assert.ok(problem.startsWith(`bad.yaml: line ${line}: YAML: `), problem);
});

test('a key written twice in one map is a YAML error on the line of the second', () => {
  const { text, line } = changeLine('  namespace: trading-dr', '  namespace: trading-dr\n  namespace: trading-other');
  const problems = problemsOf(text);
  assert.equal(problems.length, 1, problems.join('\n'));
  assert.match(problems[0]!, new RegExp(`^bad\\.yaml: line ${line + 1}: YAML: .*keys must be unique`));
});

test('an unknown key is refused with its path and line', () => {
  const { text, line } = changeLine('      dialect: mysql', '      dialekt: mysql');
  assert.deepEqual(problemsOf(text), [`bad.yaml: sites[0].mysql.dialekt: unknown key (line ${line})`]);
});

test('an unknown top-level key is refused with its name and line', () => {
  const { text, line } = changeLine('name: trading-prod', 'name: trading-prod\ncolour: blue');
  assert.deepEqual(problemsOf(text), [`bad.yaml: colour: unknown key (line ${line + 1})`]);
});

test('a missing required field is named by its path, at the line of the section that lacks it', () => {
  // sg's proxysql section loses its user; the section starts at its host line.
  const { text } = changeLine('      user: radmin', null, 2);
  const sectionLine = lineNumberOf('      host: proxysql.sg.example.internal');
  assert.deepEqual(problemsOf(text), [`bad.yaml: sites[1].proxysql.user: required (expected string) (line ${sectionLine})`]);
});

test('a missing top-level field is named, with no line to point at', () => {
  const { text } = changeLine('name: trading-prod', null);
  assert.deepEqual(problemsOf(text), ['bad.yaml: name: required (expected string)']);
});

test('a group naming an unknown site is refused with the member path and the known sites', () => {
  const { text, line } = changeLine('    sites: [tw, sg]', '    sites: [tw, hk]');
  assert.deepEqual(problemsOf(text), [`bad.yaml: groups[0].sites[1]: unknown site 'hk' (known sites: tw, sg) (line ${line})`]);
});

test('a duplicate site id is refused at the second site, not the first', () => {
  const { text, line } = changeLine('  - id: sg', '  - id: tw');
  const problems = problemsOf(text);
  assertHas(problems, `bad.yaml: sites[1].id: duplicate site id 'tw' (line ${line})`);
  assert.ok(!problems.some((problem) => problem.startsWith('bad.yaml: sites[0].id:')), problems.join('\n'));
  // sg is gone, so the group and the DNS records that name it are wrong too: one pass reports all of it.
  assertHas(problems, `bad.yaml: groups[0].sites[1]: unknown site 'sg' (known sites: tw) (line ${lineNumberOf('    sites: [tw, sg]')})`);
});

test('a duplicate site id is reported at the later site even when an earlier site has no id', () => {
  // sites: [(no id), sg, sg]. The third site repeats the second; the second is the original.
  const document = parseDocument(exampleText);
  const copy = document.getIn(['sites', 1]) as { clone(): unknown };
  document.addIn(['sites'], copy.clone());
  document.setIn(['sites', 2, 'mysql', 'host'], 'mysql-other.sg.example.internal');
  document.setIn(['sites', 2, 'proxysql', 'host'], 'proxysql-other.sg.example.internal');
  document.deleteIn(['sites', 0, 'id']);
  const problems = problemsOf(document.toString());
  assert.ok(
    problems.some((problem) => problem.startsWith("bad.yaml: sites[2].id: duplicate site id 'sg'")),
    problems.join('\n'),
  );
  assert.ok(
    !problems.some((problem) => problem.startsWith('bad.yaml: sites[1].id: duplicate')),
    `the first sg, sites[1], is reported as the duplicate:\n${problems.join('\n')}`,
  );
});

test('a config without a primary site is refused at the sites list', () => {
  const { text } = changeLine('    role: primary', '    role: standby');
  // The list starts at its first item.
  const listLine = lineNumberOf('  - id: tw');
  assert.deepEqual(problemsOf(text), [`bad.yaml: sites: no site has role 'primary' (line ${listLine})`]);
});

test('an escalation to an unknown notification target is refused with the known targets', () => {
  const { text, line } = changeLine('  escalateTo: [oncall-mail]', '  escalateTo: [oncall-mail, pager]');
  assert.deepEqual(problemsOf(text), [
    `bad.yaml: notifications.escalateTo[1]: unknown notification target 'pager' (known: slack-dr, oncall-mail) (line ${line})`,
  ]);
});

test('a bad duration is refused with the accepted forms', () => {
  for (const bad of ['30 seconds', '1.5s', '"90"', '2d', '-5s', 's']) {
    const { text, line } = changeLine('  activity: 30s', `  activity: ${bad}`);
    assert.deepEqual(
      problemsOf(text),
      [`bad.yaml: timeouts.activity: must be a duration such as '500ms', '5s', '2m' or '1h' (line ${line})`],
      `activity: ${bad}`,
    );
  }
  const { text, line } = changeLine('  after: 2m', '  after: 2 minutes');
  assert.deepEqual(problemsOf(text), [`bad.yaml: approval.after: must be a duration such as '500ms', '5s', '2m' or '1h' (line ${line})`]);
});

test('a bare number where a duration belongs is refused at that field', () => {
  // YAML reads 90 as a number, so the shape check answers before the duration pattern does.
  const { text, line } = changeLine('  activity: 30s', '  activity: 90');
  const problems = problemsOf(text);
  assert.equal(problems.length, 1, problems.join('\n'));
  assert.match(problems[0]!, /^bad\.yaml: timeouts\.activity: .*string.*number/);
  assert.ok(problems[0]!.endsWith(`(line ${line})`), problems[0]);
});

test('every unit of duration is accepted', () => {
  for (const good of ['500ms', '45s', '3m', '1h']) {
    const { text } = changeLine('  activity: 30s', `  activity: ${good}`);
    assert.equal(parseConfig(text, 'good.yaml').config.timeouts.activity, good);
  }
});

test('a timeout of 0 is refused: Temporal reads it as no timeout at all', () => {
  const { text, line } = changeLine('  activity: 30s', '  activity: 0s');
  assert.throws(
    () => parseConfig(text, 'zero.yaml'),
    (err: ConfigError) => {
      assert.deepEqual(err.problems, [`zero.yaml: timeouts.activity: must be longer than 0 (line ${line})`]);
      return true;
    },
  );
});

test('several problems are all reported in one pass, each with its own line', () => {
  const lines = exampleText.split('\n');
  const dialect = lineNumberOf('      dialect: mysql');
  const escalate = lineNumberOf('  escalateTo: [oncall-mail]');
  const activity = lineNumberOf('  activity: 30s');
  lines[dialect - 1] = '      dialekt: mysql';
  lines[escalate - 1] = '  escalateTo: [pager]';
  lines[activity - 1] = '  activity: soon';
  const problems = problemsOf(lines.join('\n'));
  assert.deepEqual([...problems].sort(), [
    `bad.yaml: notifications.escalateTo[0]: unknown notification target 'pager' (known: slack-dr, oncall-mail) (line ${escalate})`,
    `bad.yaml: sites[0].mysql.dialekt: unknown key (line ${dialect})`,
    `bad.yaml: timeouts.activity: must be a duration such as '500ms', '5s', '2m' or '1h' (line ${activity})`,
  ]);
});

test('top-level keys beginning with x- are returned as extensions, not refused', () => {
  const text = `${exampleText.trimEnd()}\nx-lab:\n  s3Port: 15080\n  sites: [tw, sg]\nx-owner: dba-team\n`;
  const loaded = parseConfig(text, 'extended.yaml');
  assert.deepEqual(loaded.extensions, { 'x-lab': { s3Port: 15080, sites: ['tw', 'sg'] }, 'x-owner': 'dba-team' });
  assert.ok(!('x-lab' in loaded.config) && !('x-owner' in loaded.config));
  assert.equal(loaded.config.name, 'trading-prod');
});

test('a top-level key that begins with x but not x- is an unknown key', () => {
  const { text, line } = changeLine('name: trading-prod', 'name: trading-prod\nxlab: true');
  assert.deepEqual(problemsOf(text), [`bad.yaml: xlab: unknown key (line ${line + 1})`]);
});

test('an x- key below the top level is an unknown key like any other', () => {
  const { text, line } = changeLine('    role: primary', '    x-note: racks 4 and 5\n    role: primary');
  assert.deepEqual(problemsOf(text), [`bad.yaml: sites[0].x-note: unknown key (line ${line})`]);
});

test('with no --config, $DR_CONFIG names the file; a missing default says how to name one', () => {
  const saved = process.env.DR_CONFIG;
  try {
    process.env.DR_CONFIG = exampleFile;
    assert.equal(loadNamedConfig(undefined).file, exampleFile);
    process.env.DR_CONFIG = '/nonexistent/dr.yaml';
    assert.throws(
      () => loadNamedConfig(undefined),
      /\/nonexistent\/dr\.yaml: no config file here \(\$DR_CONFIG\); pass --config FILE or set DR_CONFIG/,
    );
    delete process.env.DR_CONFIG;
    // The project root has no dr.yaml: the product's default is not the lab's config.
    assert.throws(() => loadNamedConfig(undefined), /dr\.yaml: no config file here \(the default \.\/dr\.yaml\)/);
    assert.throws(() => loadNamedConfig('/nonexistent/named.yaml'), /\/nonexistent\/named\.yaml: cannot read the file/);
  } finally {
    if (saved === undefined) delete process.env.DR_CONFIG;
    else process.env.DR_CONFIG = saved;
  }
});

test('semiSync names sites of its own group, and no primary acknowledges itself; the timeout is a duration', () => {
  const { text } = changeLine(
    '    sites: [tw, sg]',
    '    sites: [tw, sg]\n    semiSync: { timeout: 2x, acknowledgers: { tw: [tw, hk], xx: [sg], sg: [] } }\n   ',
  );
  const problems = problemsOf(text);
  assert.ok(
    problems.some((p) => /^bad\.yaml: groups\[0\]\.semiSync\.timeout: must be a duration/.test(p)),
    problems.join('\n'),
  );
  assert.ok(
    problems.some((p) => /^bad\.yaml: groups\[0\]\.semiSync\.acknowledgers\.sg: name at least one acknowledging replica/.test(p)),
    problems.join('\n'),
  );
  assert.ok(
    problems.some((p) => /^bad\.yaml: groups\[0\]\.semiSync\.acknowledgers\.tw\[0\]: 'tw' cannot acknowledge its own commits/.test(p)),
    problems.join('\n'),
  );
  assert.ok(
    problems.some((p) =>
      /^bad\.yaml: groups\[0\]\.semiSync\.acknowledgers\.tw\[1\]: 'hk' is not a site of this group \(sites of groups\[0\]: tw, sg\)/.test(p),
    ),
    problems.join('\n'),
  );
  assert.ok(
    problems.some((p) => /^bad\.yaml: groups\[0\]\.semiSync\.acknowledgers\.xx: 'xx' is not a site of this group/.test(p)),
    problems.join('\n'),
  );
  const ok = changeLine('    sites: [tw, sg]', '    sites: [tw, sg]\n    semiSync: { acknowledgers: { tw: [sg] } }\n   ');
  assert.deepEqual(parseConfig(ok.text, 'ok.yaml').config.groups[0]!.semiSync, { timeout: '1s', acknowledgers: { tw: ['sg'] } });
});
