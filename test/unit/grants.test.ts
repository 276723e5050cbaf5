import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MYSQL_RUNBOOK_GRANTS, grantStatements, missingGrants, parseGrants } from '../../domain/grants';

const granted = (user = '`dr`@`%`') =>
  grantStatements(user).map((g) => g.replace(/^GRANT (.+) ON (\S+) TO .*$/, (_, p, on) => `GRANT ${p} ON ${on} TO ${user}`));

test('the documented grants satisfy the check', () => {
  assert.deepEqual(missingGrants(granted()), []);
});

test('one privilege taken away is named, with what it is for', () => {
  const lines = granted().map((l) => l.replace('CONNECTION_ADMIN, ', ''));
  const missing = missingGrants(lines);
  assert.deepEqual(
    missing.map((g) => g.privilege),
    ['CONNECTION_ADMIN'],
  );
  assert.match(missing[0]!.why, /KILL/);
});

test('SHOW GRANTS as MySQL prints it: static list, then dynamic privileges in a line of their own', () => {
  const lines = [
    'GRANT SELECT, INSERT, RELOAD, PROCESS ON *.* TO `dr`@`%`',
    'GRANT BACKUP_ADMIN,CLONE_ADMIN,CONNECTION_ADMIN ON *.* TO `dr`@`%`',
    'GRANT INSERT ON `trading`.`dr_probe` TO `dr`@`%`',
  ];
  const g = parseGrants(lines);
  assert.ok(g.get('*.*')!.has('CLONE_ADMIN'));
  assert.ok(g.get('trading.dr_probe')!.has('INSERT'));
  assert.ok(missingGrants(lines).some((x) => x.privilege === 'SYSTEM_VARIABLES_ADMIN'));
});

test('ALL PRIVILEGES covers the static privileges but not the dynamic ones, as in MySQL', () => {
  const missing = missingGrants(['GRANT ALL PRIVILEGES ON *.* TO `x`@`%`']).map((g) => g.privilege);
  assert.ok(!missing.includes('PROCESS'));
  assert.ok(missing.includes('SYSTEM_VARIABLES_ADMIN'));
});

test('a privilege on one schema does not stand in for *.*', () => {
  const lines = granted().map((l) => l.replace('PROCESS, ', ''));
  lines.push('GRANT PROCESS ON `trading`.* TO `dr`@`%`');
  assert.deepEqual(
    missingGrants(lines).map((g) => g.privilege),
    ['PROCESS'],
  );
});

test('every required grant says why it is needed', () => {
  for (const g of MYSQL_RUNBOOK_GRANTS) assert.ok(g.why.length > 10, g.privilege);
});
