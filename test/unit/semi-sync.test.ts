// Semi-sync roles after a change of primary: the table of who waits and who acknowledges.
import test from 'node:test';
import assert from 'node:assert/strict';
import { semiSyncRoles } from '../../domain/semi-sync';
import { replicationSyntax } from '../../domain/replication-syntax';

const config = { timeoutMs: 1000, acknowledgers: { tw: ['tw2'], tw2: ['tw'] } };
const roles = (plan: ReturnType<typeof semiSyncRoles>) => Object.fromEntries(plan.roles.map((r) => [r.site, [r.source, r.replica]]));

test('tw primary with tw2 following: tw waits for tw2, sg is asynchronous', () => {
  const plan = semiSyncRoles(config, 'tw', ['tw2', 'sg'], ['tw', 'tw2', 'sg']);
  assert.deepEqual(roles(plan), { tw: [true, false], tw2: [false, true], sg: [false, false] });
  assert.deepEqual(plan.acknowledgers, ['tw2']);
  assert.equal(plan.note, 'tw waits for an acknowledgement from tw2 (AFTER_SYNC, timeout 1000 ms)');
});

test('sg primary (no same-city peer): semi-sync off everywhere, and the note says why', () => {
  const plan = semiSyncRoles(config, 'sg', ['tw', 'tw2'], ['tw', 'tw2', 'sg']);
  assert.deepEqual(roles(plan), { sg: [false, false], tw: [false, false], tw2: [false, false] });
  assert.match(plan.note, /^no acknowledgers are configured for sg \(no same-city peer\): semi-sync is off/);
});

test('tw2 primary while tw, its acknowledger, is fenced and replicates from nobody: off until tw follows', () => {
  const plan = semiSyncRoles(config, 'tw2', ['sg'], ['tw', 'sg']);
  assert.deepEqual(roles(plan), { tw2: [false, false], sg: [false, false], tw: [false, false] });
  assert.equal(plan.note, 'tw would acknowledge for tw2 but none replicates from it now: semi-sync is off until one does');
  assert.deepEqual(roles(semiSyncRoles(config, 'tw2', ['sg', 'tw'], ['tw', 'sg'])), { tw2: [true, false], sg: [false, false], tw: [false, true] });
});

test('no semi-sync section: every reachable server off', () => {
  const plan = semiSyncRoles(null, 'sg', ['tw'], ['tw', 'sg']);
  assert.deepEqual(roles(plan), { sg: [false, false], tw: [false, false] });
  assert.match(plan.note, /not configured/);
});

test('semi-sync variable names per server: MySQL 8.0.26+ source/replica, older MySQL and MariaDB master/slave', () => {
  const mysql = replicationSyntax('mysql', '9.7.4-2').semiSync;
  assert.deepEqual(
    [mysql.sourceEnabled, mysql.sourceTimeout, mysql.sourceWaitPoint, mysql.replicaEnabled, mysql.plugins.source, mysql.plugins.replica],
    [
      'rpl_semi_sync_source_enabled',
      'rpl_semi_sync_source_timeout',
      'rpl_semi_sync_source_wait_point',
      'rpl_semi_sync_replica_enabled',
      'semisync_source.so',
      'semisync_replica.so',
    ],
  );
  assert.equal(replicationSyntax('mysql', '8.0.26').semiSync.sourceEnabled, 'rpl_semi_sync_source_enabled');
  assert.equal(replicationSyntax('mysql', '8.0.25').semiSync.sourceEnabled, 'rpl_semi_sync_master_enabled');
  assert.equal(replicationSyntax('mysql', '8.0.25').show, 'SHOW REPLICA STATUS');
  const mariadb = replicationSyntax('mariadb', '10.11.19-MariaDB-0+deb12u1').semiSync;
  assert.deepEqual(
    [mariadb.sourceEnabled, mariadb.sourceTimeout, mariadb.sourceWaitPoint, mariadb.replicaEnabled, mariadb.sourceStatus],
    [
      'rpl_semi_sync_master_enabled',
      'rpl_semi_sync_master_timeout',
      'rpl_semi_sync_master_wait_point',
      'rpl_semi_sync_slave_enabled',
      'Rpl_semi_sync_master_status',
    ],
  );
  assert.deepEqual(mariadb.plugins, { source: null, replica: null }, 'built into MariaDB');
});
