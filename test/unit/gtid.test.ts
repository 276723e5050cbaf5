// GTID arithmetic for both dialects. Every expected value below is worked out by hand from the semantics:
// MySQL sets are intervals per source UUID, MariaDB positions are the last sequence number per domain.
import test from 'node:test';
import assert from 'node:assert/strict';
import {
  contains,
  countGtids,
  errantGtids,
  formatRanges,
  parseMariadbPos,
  parseMysqlSet,
  subtractGtids,
  subtractMariadb,
  subtractMysql,
  type GtidRange,
} from '../../domain/gtid';

const first = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
const second = '4a6f4a8e-71ca-11e1-9e33-c80aa9429562';

/** Every transaction number in the ranges of one source, in order, duplicates kept: a set has none. */
function transactionsOf(ranges: GtidRange[], source: string): number[] {
  const numbers: number[] = [];
  for (const range of ranges.filter((r) => r.source === source)) {
    for (let n = range.from; n <= range.to; n++) numbers.push(n);
  }
  return numbers;
}

// ── MySQL: parsing ──

test('parseMysqlSet reads intervals per UUID, a lone number being a one-transaction interval', () => {
  const set = parseMysqlSet(`${first}:1-5:7-9,${second}:3`);
  assert.deepEqual(
    [...set],
    [
      [
        first,
        [
          [1, 5],
          [7, 9],
        ],
      ],
      [second, [[3, 3]]],
    ],
  );
});

test('parseMysqlSet lower-cases UUIDs and ignores the whitespace and newlines MySQL prints', () => {
  // @@gtid_executed puts ",\n" between UUIDs.
  const set = parseMysqlSet(` ${first.toUpperCase()}:1-2,\n${second}:10-12 `);
  assert.deepEqual([...set.keys()], [first, second]);
  assert.deepEqual(set.get(first), [[1, 2]]);
  assert.deepEqual(set.get(second), [[10, 12]]);
});

test('parseMysqlSet of an empty set, or one with a trailing comma, has no stray entries', () => {
  assert.equal(parseMysqlSet('').size, 0);
  assert.equal(parseMysqlSet('  \n ').size, 0);
  assert.deepEqual([...parseMysqlSet(`${first}:1-3,`)], [[first, [[1, 3]]]]);
});

test('parseMysqlSet gathers a UUID written twice into one entry', () => {
  assert.deepEqual(
    [...parseMysqlSet(`${first}:1-2,${second}:4,${first}:5`)],
    [
      [
        first,
        [
          [1, 2],
          [5, 5],
        ],
      ],
      [second, [[4, 4]]],
    ],
  );
});

// ── MySQL: subtraction ──

test('subtractMysql cuts a hole out of the middle of an interval', () => {
  assert.deepEqual(subtractMysql(`${first}:1-10`, `${first}:3-4`), [
    { source: first, from: 1, to: 2 },
    { source: first, from: 5, to: 10 },
  ]);
});

test('subtractMysql trims the start and the end of an interval', () => {
  assert.deepEqual(subtractMysql(`${first}:1-10`, `${first}:1-7`), [{ source: first, from: 8, to: 10 }]);
  assert.deepEqual(subtractMysql(`${first}:1-10`, `${first}:6-12`), [{ source: first, from: 1, to: 5 }]);
});

test('subtractMysql of a set minus a superset, or minus itself, is empty', () => {
  assert.deepEqual(subtractMysql(`${first}:3-5`, `${first}:1-10`), []);
  assert.deepEqual(subtractMysql(`${first}:1-5:7-9,${second}:1-3`, `${first}:1-5:7-9,${second}:1-3`), []);
});

test('subtractMysql of a set minus the empty set is the whole set, and of the empty set is nothing', () => {
  assert.deepEqual(subtractMysql(`${first}:1-5:7-9`, ''), [
    { source: first, from: 1, to: 5 },
    { source: first, from: 7, to: 9 },
  ]);
  assert.deepEqual(subtractMysql('', `${first}:1-5`), []);
});

test('subtractMysql handles subtrahend intervals that are unsorted, overlapping and adjacent', () => {
  // 1-20 minus {2..6} and {15..17}: what is left is 1, 7-14 and 18-20.
  assert.deepEqual(subtractMysql(`${first}:1-20`, `${first}:15-17:2-4:3-6`), [
    { source: first, from: 1, to: 1 },
    { source: first, from: 7, to: 14 },
    { source: first, from: 18, to: 20 },
  ]);
  // 1-3 and 4-6 touch: together they cover 1-6.
  assert.deepEqual(subtractMysql(`${first}:1-10`, `${first}:1-3:4-6`), [{ source: first, from: 7, to: 10 }]);
});

test('subtractMysql keeps UUIDs apart and ignores UUIDs only the subtrahend has', () => {
  assert.deepEqual(subtractMysql(`${first}:1-5,${second}:1-5`, `${first}:1-5`), [{ source: second, from: 1, to: 5 }]);
  assert.deepEqual(subtractMysql(`${first}:1-3`, `${second}:1-3`), [{ source: first, from: 1, to: 3 }]);
});

test('subtractMysql matches a UUID whatever its letter case', () => {
  assert.deepEqual(subtractMysql(`${first.toUpperCase()}:1-5`, `${first}:1-4`), [{ source: first, from: 5, to: 5 }]);
});

test('subtractMysql of a set written with adjacent intervals yields each transaction once', () => {
  const ranges = subtractMysql(`${first}:1-3:4-6`, `${first}:2`);
  assert.deepEqual(transactionsOf(ranges, first), [1, 3, 4, 5, 6]);
  assert.equal(countGtids(ranges), 5);
});

test('subtractMysql treats a set written with overlapping intervals as a set: each transaction once', () => {
  // MySQL normalises "1-5:3-7" to "1-7"; GTID_SUBTRACT(that, '') is 7 transactions, not 10.
  const whole = subtractMysql(`${first}:1-5:3-7`, '');
  assert.deepEqual(transactionsOf(whole, first), [1, 2, 3, 4, 5, 6, 7]);
  assert.equal(countGtids(whole), 7);
  // The same set with the UUID written twice, minus 1-2: 3-7 is left, 5 transactions.
  const rest = subtractMysql(`${first}:1-5,${first}:3-7`, `${first}:1-2`);
  assert.equal(countGtids(rest), 5);
});

// ── MariaDB: parsing and subtraction ──

test('parseMariadbPos reads domain, server and sequence number per entry', () => {
  assert.deepEqual(
    [...parseMariadbPos('0-1-100, 1-2-5')],
    [
      [0, { server: 1, seq: 100 }],
      [1, { server: 2, seq: 5 }],
    ],
  );
  assert.equal(parseMariadbPos('').size, 0);
});

test('subtractMariadb is, per domain, the sequence numbers after the subtrahend and up to the minuend', () => {
  assert.deepEqual(subtractMariadb('0-1-100,1-2-5', '0-1-90,1-2-5'), [{ source: '0-1', from: 91, to: 100 }]);
});

test('subtractMariadb counts a domain the subtrahend lacks from sequence number 1', () => {
  assert.deepEqual(subtractMariadb('0-1-100,1-2-5', '0-1-100'), [{ source: '1-2', from: 1, to: 5 }]);
});

test('subtractMariadb is empty when the subtrahend is at or past the minuend in every domain', () => {
  assert.deepEqual(subtractMariadb('0-1-100', '0-1-120'), []);
  assert.deepEqual(subtractMariadb('0-1-100,1-2-5', '1-2-5,0-1-100'), []);
  assert.deepEqual(subtractMariadb('', '0-1-100'), []);
});

test('subtractMariadb compares sequence numbers within a domain whichever server wrote them', () => {
  // gtid_strict_mode: sequence numbers only grow within a domain, so 0-2-95 covers up to 95.
  assert.deepEqual(subtractMariadb('0-1-100', '0-2-95'), [{ source: '0-1', from: 96, to: 100 }]);
});

test('subtractGtids reads its arguments in the dialect it is given', () => {
  assert.deepEqual(subtractGtids('mysql', `${first}:1-10`, `${first}:1-4`), [{ source: first, from: 5, to: 10 }]);
  assert.deepEqual(subtractGtids('mariadb', '0-1-10', '0-1-4'), [{ source: '0-1', from: 5, to: 10 }]);
});

// ── counting and formatting ──

test('countGtids adds up inclusive range lengths', () => {
  assert.equal(countGtids([]), 0);
  assert.equal(
    countGtids([
      { source: first, from: 1, to: 5 },
      { source: first, from: 7, to: 7 },
      { source: '0-1', from: 91, to: 100 },
    ]),
    5 + 1 + 10,
  );
});

test('formatRanges writes MySQL ranges as uuid:from-to, or uuid:n for one transaction', () => {
  assert.deepEqual(
    formatRanges('mysql', [
      { source: first, from: 1, to: 5 },
      { source: second, from: 7, to: 7 },
    ]),
    [`${first}:1-5`, `${second}:7`],
  );
});

test('formatRanges writes MariaDB ranges as first..last full GTIDs, or one GTID', () => {
  assert.deepEqual(
    formatRanges('mariadb', [
      { source: '0-1', from: 91, to: 100 },
      { source: '1-2', from: 5, to: 5 },
    ]),
    ['0-1-91..0-1-100', '1-2-5'],
  );
  assert.deepEqual(formatRanges('mariadb', []), []);
});

// ── containment ──

test('contains (MySQL) is true only when every needed transaction is had', () => {
  assert.equal(contains('mysql', `${first}:1-10,${second}:1-3`, `${first}:2-5`), true);
  assert.equal(contains('mysql', `${first}:1-10`, `${first}:2-5,${second}:1`), false);
  // 6 is the gap between the two intervals.
  assert.equal(contains('mysql', `${first}:1-5:7-9`, `${first}:5-7`), false);
  assert.equal(contains('mysql', `${first}:1-5:6-9`, `${first}:5-7`), true);
});

test('contains: everything holds the empty set, the empty set holds nothing else', () => {
  assert.equal(contains('mysql', `${first}:1-3`, ''), true);
  assert.equal(contains('mysql', '', ''), true);
  assert.equal(contains('mysql', '', `${first}:1`), false);
  assert.equal(contains('mariadb', '0-1-100', ''), true);
  assert.equal(contains('mariadb', '', '0-1-1'), false);
});

test('contains (MariaDB) compares the last sequence number per domain', () => {
  assert.equal(contains('mariadb', '0-1-100,1-2-5', '0-1-90'), true);
  assert.equal(contains('mariadb', '0-1-100,1-2-5', '0-1-100,1-2-5'), true);
  assert.equal(contains('mariadb', '0-1-100', '0-1-101'), false);
  // A domain the holder never saw is missing altogether.
  assert.equal(contains('mariadb', '0-1-100', '1-2-1'), false);
});

// ── errant transactions ──

test('errantGtids (MySQL) is the returning set minus the primary set, whatever the slave position', () => {
  const errant = errantGtids('mysql', { executed: `${first}:1-100,${second}:1-5` }, { executed: `${first}:1-98,${second}:1-5`, slavePos: '0-9-9' });
  assert.deepEqual(errant, { ranges: [{ source: first, from: 99, to: 100 }], unknownDomains: [] });
});

test('errantGtids (MariaDB) finds what the old primary wrote after the fork, though the new primary wrote more', () => {
  // tw (server 1) wrote up to 100; sg (server 2) had applied 0-1-90 as a replica when it was promoted,
  // then wrote 91..150 itself. A plain per-domain subtraction would see 150 > 100 and report nothing.
  assert.deepEqual(subtractMariadb('0-1-100', '0-2-150'), []);
  const errant = errantGtids('mariadb', { executed: '0-1-100' }, { executed: '0-2-150', slavePos: '0-1-90' });
  assert.deepEqual(errant, { ranges: [{ source: '0-1', from: 91, to: 100 }], unknownDomains: [] });
});

test('errantGtids (MariaDB) reports nothing when the new primary applied all of it before the fork', () => {
  assert.deepEqual(errantGtids('mariadb', { executed: '0-1-100' }, { executed: '0-2-150', slavePos: '0-1-100' }), {
    ranges: [],
    unknownDomains: [],
  });
});

test('errantGtids (MariaDB) on one lineage compares sequence numbers directly', () => {
  // The new primary never wrote in the domain: its last GTID is still the old primary's.
  assert.deepEqual(errantGtids('mariadb', { executed: '0-1-100' }, { executed: '0-1-97', slavePos: null }), {
    ranges: [{ source: '0-1', from: 98, to: 100 }],
    unknownDomains: [],
  });
  assert.deepEqual(errantGtids('mariadb', { executed: '0-1-100' }, { executed: '0-1-100', slavePos: null }), {
    ranges: [],
    unknownDomains: [],
  });
  // A returning site that replicated from the new primary and is merely behind has nothing errant.
  assert.deepEqual(errantGtids('mariadb', { executed: '0-2-140' }, { executed: '0-2-150', slavePos: '0-1-90' }), {
    ranges: [],
    unknownDomains: [],
  });
});

test('errantGtids (MariaDB) counts a domain the new primary never saw from sequence number 1', () => {
  assert.deepEqual(errantGtids('mariadb', { executed: '0-1-100,5-1-7' }, { executed: '0-1-100', slavePos: null }), {
    ranges: [{ source: '5-1', from: 1, to: 7 }],
    unknownDomains: [],
  });
});

test('errantGtids (MariaDB) leaves a domain with no shared server in either position to a person', () => {
  assert.deepEqual(errantGtids('mariadb', { executed: '0-1-100' }, { executed: '0-2-150', slavePos: null }), {
    ranges: [],
    unknownDomains: [0],
  });
  // An empty slave position is no position.
  assert.deepEqual(errantGtids('mariadb', { executed: '0-1-100' }, { executed: '0-2-150', slavePos: '' }), {
    ranges: [],
    unknownDomains: [0],
  });
  // The new primary replicated in this domain, but from a third server: still no common point with server 1.
  assert.deepEqual(errantGtids('mariadb', { executed: '0-1-100' }, { executed: '0-2-150', slavePos: '0-3-80' }), {
    ranges: [],
    unknownDomains: [0],
  });
});

test('errantGtids (MariaDB) decides each domain on its own', () => {
  // Domain 0 forked after 95, domain 1 is level on one lineage, domain 2 is new, domain 3 cannot be told.
  const errant = errantGtids('mariadb', { executed: '0-1-100,1-1-20,2-1-5,3-1-9' }, { executed: '0-2-150,1-1-20,3-4-30', slavePos: '0-1-95' });
  assert.deepEqual(errant, {
    ranges: [
      { source: '0-1', from: 96, to: 100 },
      { source: '2-1', from: 1, to: 5 },
    ],
    unknownDomains: [3],
  });
  assert.equal(countGtids(errant.ranges), 10);
  assert.deepEqual(formatRanges('mariadb', errant.ranges), ['0-1-96..0-1-100', '2-1-1..2-1-5']);
});

test('errantGtids of an empty returning position is nothing in either dialect', () => {
  assert.deepEqual(errantGtids('mariadb', { executed: '' }, { executed: '0-2-150', slavePos: null }), { ranges: [], unknownDomains: [] });
  assert.deepEqual(errantGtids('mysql', { executed: '' }, { executed: `${first}:1-5`, slavePos: null }), { ranges: [], unknownDomains: [] });
});

test('MySQL 8.3+ tagged GTIDs: a tag applies to the intervals after it, and is its own source', () => {
  const u = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
  const set = parseMysqlSet(`${u}:1-5:Audit:1-3:7,${u}:8`);
  assert.deepEqual(set.get(u), [
    [1, 5],
    [8, 8],
  ]);
  assert.deepEqual(set.get(`${u}:audit`), [
    [1, 3],
    [7, 7],
  ]);
  assert.deepEqual(subtractMysql(`${u}:1-5:audit:1-3`, `${u}:1-5:audit:1-2`), [{ source: `${u}:audit`, from: 3, to: 3 }]);
  assert.deepEqual(formatRanges('mysql', subtractMysql(`${u}:1-5:audit:1-3`, `${u}:1-5`)), [`${u}:audit:1-3`]);
  assert.equal(contains('mysql', `${u}:1-5:audit:1-3`, `${u}:audit:2`), true);
  assert.equal(contains('mysql', `${u}:1-5`, `${u}:audit:2`), false);
});
