import t from 'tap';
import type { ClientReport } from '../../client/report.js';
import { gateOutcomeLines, gateTryLine, instabilityOf, runUntilStable } from '../../client/stability-gate.js';

const report = (fields: { lost?: number; podChanges?: number; addressChanges?: number; silent?: number; connectionsLost?: number; refused?: number; interrupted?: boolean } = {}): ClientReport =>
  ({
    interrupted: fields.interrupted ?? false,
    totals: { sessions: 4, lost: fields.lost ?? 0, podChanges: fields.podChanges ?? 0, addressChanges: fields.addressChanges ?? 0 },
    sessions: Array.from({ length: 4 }, (_, i) => ({ received: i < (fields.silent ?? 0) ? 0 : 5 })),
    connections: fields.connectionsLost === undefined ? undefined : { totals: { lost: fields.connectionsLost, refused: fields.refused ?? 0 } },
  }) as unknown as ClientReport;

t.test('instabilityOf() names every kind of problem, and nothing for a clean run', async (t) => {
  t.same(instabilityOf(report()), []);
  t.same(instabilityOf(report({ lost: 3, podChanges: 1, addressChanges: 2, silent: 1, connectionsLost: 2, refused: 1 })), [
    '1 of 4 sessions never answered',
    '3 requests lost',
    '1 pod changes',
    '2 address changes',
    '2 connections lost',
    '1 connection attempts refused or never answered',
  ]);
});

t.test('runUntilStable() stops at the first stable try and waits the retry time between tries', async (t) => {
  const waits: number[] = [];
  const outcome = await runUntilStable({
    maxTries: 5,
    retryWaitMs: 15_000,
    runTry: async (n) => ({ reports: [{ protocol: 'udp', report: report({ lost: n < 3 ? 1 : 0 }) }] }),
    wait: async (ms) => (waits.push(ms), true),
  });
  t.equal(outcome.stable, true);
  t.equal(outcome.tries.length, 3);
  t.same(waits, [15_000, 15_000]);
  t.same(gateOutcomeLines(outcome, '30s', 5), ['STABLE: every session answered without loss or change for 30s, after 3 tries']);
});

t.test('runUntilStable() gives up after maxTries, saying what broke in each try, with no wait after the last', async (t) => {
  const waits: number[] = [];
  const outcome = await runUntilStable({
    maxTries: 2,
    retryWaitMs: 10,
    runTry: async (n) => ({
      reports: [
        { protocol: 'udp', report: report({ lost: n }) },
        { protocol: 'tcp', report: report({ connectionsLost: n - 1 }) },
      ],
    }),
    wait: async (ms) => (waits.push(ms), true),
  });
  t.equal(outcome.stable, false);
  t.same(waits, [10]);
  t.same(gateOutcomeLines(outcome, '30s', 2), ['NOT STABLE after 2 tries of 2:', '  try 1/2: udp: 1 requests lost', '  try 2/2: udp: 2 requests lost; tcp: 1 connections lost']);
});

t.test('an interrupted try or wait ends the gate, not stable', async (t) => {
  const interrupted = await runUntilStable({ maxTries: 3, retryWaitMs: 1, runTry: async () => ({ reports: [{ protocol: 'udp', report: report({ interrupted: true }) }] }), wait: async () => true });
  t.same([interrupted.stable, interrupted.tries.length], [false, 1]);
  t.equal(gateTryLine(interrupted.tries[0]!, 3), 'try 1/3: interrupted');
  const cut = await runUntilStable({ maxTries: 3, retryWaitMs: 1, runTry: async () => ({ reports: [{ protocol: 'udp', report: report({ lost: 1 }) }] }), wait: async () => false });
  t.same([cut.stable, cut.tries.length], [false, 1]);
});
