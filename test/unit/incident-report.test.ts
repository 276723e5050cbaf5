// The incident's Markdown report shows what detection saw and how each vantage point voted.
import test from 'node:test';
import assert from 'node:assert/strict';
import { renderMarkdown } from '../../activities/report';

test("an incident's report lists the signals, every vote with the lease as the vantage point held it, and the phases", () => {
  const md = renderMarkdown({
    runbook: 'incident',
    workflowId: 'incident-trading',
    runId: 'r1',
    input: { group: 'trading' },
    outcome: 'failed-over',
    signals: [{ kind: 'agent', from: 'tw', suspect: 'tw', what: 'database down', detail: 'connect ECONNREFUSED', at: 't', receivedAt: 't1' }],
    duplicates: 1,
    rounds: [
      {
        at: 't2',
        tally: { vantagePoints: ['tw2', 'sg', 'ops'], majority: 2, down: ['tw2', 'ops'], up: [], abstained: ['sg'], verdict: 'confirmed' },
        ballots: [
          {
            vantage: 'tw2',
            database: 'down',
            router: 'up',
            detail: 'database: ECONNREFUSED',
            lease: { holder: 'tw', released: true, ageMs: 300, sinceStartMs: 9000 },
            at: 't2',
          },
          {
            vantage: 'ops',
            database: 'down',
            router: 'up',
            detail: 'database: ECONNREFUSED',
            lease: { holder: 'tw', released: false, ageMs: 812.4, sinceStartMs: 9000 },
            at: 't2',
          },
          { vantage: 'sg', abstained: 'timeout' },
        ],
      },
    ],
    phases: { confirmMs: 1100, failoverMs: 1400 },
    failover: { workflowId: 'failover-trading', outcome: 'completed', to: 'tw2', rtoMs: 1300 },
    block: null,
  } as never);
  assert.match(md, /\| t1 \| agent tw \| database down \| tw \| connect ECONNREFUSED \|/);
  assert.match(md, /### Votes, round 1 \(t2\): confirmed, majority 2 of tw2, sg, ops/);
  assert.match(md, /\| tw2 \| down \| up \| tw \(released\) \|/);
  assert.match(md, /\| ops \| down \| up \| tw, renewed 812 ms ago \|/);
  assert.match(md, /\| sg \| no answer \| \| \| timeout \|/);
  assert.match(md, /Phases: confirm 1100 ms \(window and quorum\), failover 1400 ms\./);
  assert.match(md, /1 duplicate or repeated signal/);
});
