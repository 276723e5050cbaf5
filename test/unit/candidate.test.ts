// Choosing the site to promote when the operator names none, and the peers a candidate must be caught up
// from first. Every expected value is worked out by hand.
import test from 'node:test';
import assert from 'node:assert/strict';
import { chooseCandidate } from '../../domain/candidate';
import { peersAhead } from '../../domain/peers-ahead';
import { intersectGtids, sizeOfSet, unionGtids } from '../../domain/gtid';

const tw = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
const other = '4a6f4a8e-71ca-11e1-9e33-c80aa9429562';
const order = ['tw', 'tw2', 'sg'];

test('union and intersection of GTID sets: MySQL intervals per source, MariaDB the later or earlier position per domain', () => {
  assert.equal(unionGtids('mysql', `${tw}:1-5`, `${tw}:4-9,${other}:1-2`), `${tw}:1-9,${other}:1-2`);
  assert.equal(unionGtids('mysql', `${tw}:1-3:7`, `${tw}:5`), `${tw}:1-3:5:7`);
  assert.equal(unionGtids('mysql', '', `${tw}:1-2`), `${tw}:1-2`);
  assert.equal(intersectGtids('mysql', `${tw}:1-9,${other}:1-2`, `${tw}:4-12`), `${tw}:4-9`);
  assert.equal(intersectGtids('mysql', `${tw}:1-3`, ''), '');
  // Tagged GTIDs (MySQL 8.3+) keep their tag.
  assert.equal(unionGtids('mysql', `${tw}:1-2:audit:1`, `${tw}:audit:2`), `${tw}:1-2,${tw}:audit:1-2`);
  assert.equal(unionGtids('mariadb', '0-1-100,1-2-5', '0-1-120'), '0-1-120,1-2-5');
  assert.equal(intersectGtids('mariadb', '0-1-100,1-2-5', '0-1-120'), '0-1-100');
  assert.equal(sizeOfSet('mysql', `${tw}:1-9,${other}:1-2`), 11);
  assert.equal(sizeOfSet('mariadb', '0-1-100,1-2-5'), 105);
});

test('no site named: the replica holding the most (executed ∪ retrieved) is chosen, and every site considered is listed', () => {
  const choice = chooseCandidate(
    'mysql',
    order,
    [
      { site: 'tw2', executed: `${tw}:1-90`, retrieved: `${tw}:1-100` },
      { site: 'sg', executed: `${tw}:1-95`, retrieved: `${tw}:1-95` },
    ],
    null,
  );
  assert.equal(choice.chosen, 'tw2', 'what tw2 received counts, not only what it applied');
  assert.deepEqual(
    choice.considered.map((c) => [c.site, c.count, c.why]),
    [
      ['tw2', 100, 'most advanced'],
      ['sg', 95, '5 transaction(s) behind tw2'],
    ],
  );
  assert.match(choice.reason, /^tw2 holds the most transactions \(100\)$/);
});

test('a tie goes to the group order: the same-city standby first, whatever order the sites were assessed in', () => {
  const choice = chooseCandidate(
    'mariadb',
    order,
    [
      { site: 'sg', executed: '0-1-50', retrieved: '' },
      { site: 'tw2', executed: '0-1-50', retrieved: '0-1-50' },
    ],
    '0-1-50',
  );
  assert.equal(choice.chosen, 'tw2');
  assert.deepEqual(
    choice.considered.map((c) => [c.site, c.lacks, c.why]),
    [
      ['tw2', 0, 'most advanced'],
      ['sg', 0, 'as advanced as tw2, later in the group order'],
    ],
  );
  assert.match(choice.reason, /tied, and first in the group order/);
});

test("with the old primary's set known, only its transactions count: an errant write does not make a replica more advanced", () => {
  const choice = chooseCandidate(
    'mysql',
    order,
    [
      { site: 'tw2', executed: `${tw}:1-100`, retrieved: '' },
      { site: 'sg', executed: `${tw}:1-98,${other}:1-10`, retrieved: '' },
    ],
    `${tw}:1-100`,
  );
  assert.equal(choice.chosen, 'tw2');
  assert.deepEqual(
    choice.considered.map((c) => [c.site, c.count, c.lacks]),
    [
      ['tw2', 100, 0],
      ['sg', 98, 2],
    ],
  );
});

test('unreachable, down and writable sites are listed with the reason they cannot be promoted; none usable chooses none', () => {
  const views = [
    { site: 'tw2', unusable: 'unreachable (its worker did not pick up)' },
    { site: 'sg', executed: `${tw}:1-10`, retrieved: '' },
  ];
  const choice = chooseCandidate('mysql', order, views, null);
  assert.equal(choice.chosen, 'sg');
  assert.deepEqual(choice.considered[0], { site: 'tw2', set: null, count: null, lacks: null, why: 'unreachable (its worker did not pick up)' });
  const none = chooseCandidate('mysql', order, [views[0]!, { site: 'sg', unusable: 'writable: not a replica' }], null);
  assert.equal(none.chosen, null);
  assert.equal(none.reason, 'no replica can be promoted: tw2 unreachable (its worker did not pick up); sg writable: not a replica');
});

test('peers ahead of the candidate: the transactions they hold that it lacks, received ones included', () => {
  const ahead = peersAhead(
    'mysql',
    { executed: `${tw}:1-90`, retrieved: `${tw}:1-92` },
    [{ site: 'sg', executed: `${tw}:1-95`, retrieved: `${tw}:1-97` }],
    null,
  );
  assert.deepEqual(ahead, [{ site: 'sg', target: `${tw}:1-97`, missing: [`${tw}:93-97`], count: 5 }]);
  assert.deepEqual(peersAhead('mysql', { executed: `${tw}:1-97`, retrieved: '' }, [{ site: 'sg', executed: `${tw}:1-97`, retrieved: '' }], null), []);
});

test("peers ahead, with the old primary's set known: a peer's errant transactions are never copied to the candidate", () => {
  const ahead = peersAhead(
    'mysql',
    { executed: `${tw}:1-90`, retrieved: '' },
    [{ site: 'sg', executed: `${tw}:1-95,${other}:1-3`, retrieved: '' }],
    `${tw}:1-100`,
  );
  assert.deepEqual(ahead, [{ site: 'sg', target: `${tw}:1-95`, missing: [`${tw}:91-95`], count: 5 }]);
  const onlyErrant = peersAhead(
    'mariadb',
    { executed: '0-1-90', retrieved: '' },
    [{ site: 'sg', executed: '0-1-90,1-3-4', retrieved: '' }],
    '0-1-90',
  );
  assert.deepEqual(onlyErrant, []);
});

test('the gate and the report say which site is promoted and why, with every site considered', async () => {
  const { candidateText } = await import('../../workflows/failover/texts');
  const choice = chooseCandidate(
    'mysql',
    order,
    [
      { site: 'tw2', unusable: 'unreachable (its worker did not pick up)' },
      { site: 'sg', executed: `${tw}:1-10`, retrieved: `${tw}:1-12` },
    ],
    `${tw}:1-12`,
  );
  assert.equal(
    candidateText({ ...choice, chosenByRunbook: true }),
    "Candidate sg (chosen): sg holds the most transactions (12, lacks 0 of the old primary's last-seen set); " +
      'considered tw2: unreachable (its worker did not pick up); sg: 12 transaction(s), lacks 0 (most advanced)',
  );
});
