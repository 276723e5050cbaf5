import { test } from 'node:test';
import assert from 'node:assert/strict';
import { replicationSyntax } from '../../domain/replication-syntax';

test('MySQL 8.0 before 8.0.23 gets SLAVE / MASTER statements and columns', () => {
  for (const v of ['8.0.21-log', '8.0.22', '5.7.44']) {
    const s = replicationSyntax('mysql', v);
    assert.equal(s.show, 'SHOW SLAVE STATUS', v);
    assert.equal(s.stop, 'STOP SLAVE', v);
    assert.match(s.changeSource, /^CHANGE MASTER TO .*MASTER_AUTO_POSITION = 1/, v);
    assert.equal(s.resetBinlogs, 'RESET MASTER', v);
  }
});

test('MySQL 8.0.23 and later, 8.4 LTS and 9.7 get REPLICA / SOURCE statements', () => {
  for (const v of ['8.0.23', '8.0.40', '8.4.6', '9.7.4-2', '10.0.0']) {
    const s = replicationSyntax('mysql', v);
    assert.equal(s.show, 'SHOW REPLICA STATUS', v);
    assert.equal(s.start, 'START REPLICA', v);
    assert.equal(s.resetAll, 'RESET REPLICA ALL', v);
    assert.match(s.changeSource, /^CHANGE REPLICATION SOURCE TO .*SOURCE_AUTO_POSITION = 1.*GET_SOURCE_PUBLIC_KEY = 1/, v);
  }
});

test('RESET MASTER until 8.1; RESET BINARY LOGS AND GTIDS from 8.2 (8.4 and 9.x have only that)', () => {
  assert.equal(replicationSyntax('mysql', '8.0.40').resetBinlogs, 'RESET MASTER');
  assert.equal(replicationSyntax('mysql', '8.2.0').resetBinlogs, 'RESET BINARY LOGS AND GTIDS');
  assert.equal(replicationSyntax('mysql', '9.7.4-2').resetBinlogs, 'RESET BINARY LOGS AND GTIDS');
  assert.equal(replicationSyntax('mariadb', '11.4.2-MariaDB').resetBinlogs, 'RESET MASTER');
});

test('MariaDB keeps SLAVE / MASTER with GTID slave_pos, whatever its version number says', () => {
  for (const v of ['10.11.19-MariaDB-0+deb12u1', '11.4.2-MariaDB']) {
    const s = replicationSyntax('mariadb', v);
    assert.equal(s.show, 'SHOW SLAVE STATUS');
    assert.match(s.changeSource, /MASTER_USE_GTID = slave_pos/);
  }
});

test('an unreadable MySQL version is taken as old: the SLAVE names still work up to 8.3', () => {
  assert.equal(replicationSyntax('mysql', 'unknown').show, 'SHOW SLAVE STATUS');
});
