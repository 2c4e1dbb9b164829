import t from 'tap';
import { planBed } from './lib/bed-plan.js';
import type { ClientResult, ReportView } from './lib/client-run.js';
import { finalPodsMatchConntrack, kernelChanges, kernelMoves, pathsMatchKernel, type Observed } from './lib/observation.js';
import type { TestBed } from './lib/test-bed.js';

// Only the plan is read from the bed by these pure checks.
const bed = { plan: planBed('at1-', 3) } as TestBed;
const NAT = '203.0.113.2';

function session(n: number, pod: string, mapped: string): ReportView['sessions'][number] {
  return { session: n, localPort: 40000 + n, lost: 0, lostRequests: 0, lostReplies: 0, podChanges: 0, addressChanges: 0, longestOutageMs: 0, pod, mappedAddress: mapped };
}

/** Session 1 moved pod-1 -> pod-2; session 2 stayed on pod-3 but the node re-mapped its port. */
function observed(events: ReportView['events']): Observed {
  const report = {
    totals: {} as ReportView['totals'],
    pods: [],
    sessions: [session(1, 'pod-2', `${NAT}:40001`), session(2, 'pod-3', `${NAT}:5555`)],
    events,
  } satisfies ReportView;
  return {
    client: { code: 1, stdout: '', stderr: '', report, events: [] } satisfies ClientResult,
    answered: new Map([
      [
        `${NAT}:40001`,
        [
          { backend: '198.51.100.11', seen: `${NAT}:40001` },
          { backend: '198.51.100.12', seen: `${NAT}:40001` },
        ],
      ],
      [
        `${NAT}:40002`,
        [
          { backend: '198.51.100.13', seen: `${NAT}:40002` },
          { backend: '198.51.100.13', seen: `${NAT}:5555` },
        ],
      ],
    ]),
    upstream: new Map([
      [1, `${NAT}:40001`],
      [2, `${NAT}:40002`],
    ]),
  };
}

const truthful: ReportView['events'] = [
  { time: '', type: 'pod-change', session: 1, from: 'pod-1', to: 'pod-2', silentMs: 100 },
  { time: '', type: 'address-change', session: 2, from: `${NAT}:40002`, to: `${NAT}:5555`, silentMs: 100 },
];

t.test('kernelChanges() counts the pod and address steps of every session in the event log', async (t) => {
  t.same(kernelChanges(bed, observed(truthful)), { pods: 1, addresses: 1 });
});

t.test('kernelMoves() lists each pod step of the event log with its session, from and to', async (t) => {
  t.same(kernelMoves(bed, observed(truthful)), [{ session: 1, from: 'pod-1', to: 'pod-2' }], 'the re-mapped port of session 2 is no move');
});

t.test('pathsMatchKernel() passes a report that tells what the kernel did', async (t) => {
  t.same(pathsMatchKernel(bed, observed(truthful)).pass, true);
});

t.test('pathsMatchKernel() fails a missed change, a wrong pod, and a change that did not happen', async (t) => {
  const missed = pathsMatchKernel(bed, observed(truthful.slice(0, 1)));
  t.equal(missed.pass, false);
  t.match(missed.detail, `#2 addresses ${NAT}:5555, kernel ${NAT}:40002 -> ${NAT}:5555`);
  const wrongPod = pathsMatchKernel(bed, observed([{ ...truthful[0]!, to: 'pod-3' }, truthful[1]!]));
  t.match(wrongPod.detail, '#1 pods pod-1 -> pod-3, kernel pod-1 -> pod-2');
  const invented = pathsMatchKernel(bed, observed([...truthful, { time: '', type: 'pod-change', session: 2, from: 'pod-3', to: 'pod-1', silentMs: 1 }]));
  t.match(invented.detail, '#2 pods pod-3 -> pod-1, kernel pod-3');
});

t.test('finalPodsMatchConntrack() compares each final pod with the conntrack entry for its address', async (t) => {
  const { report } = observed(truthful).client;
  const table = new Map([
    [`${NAT}:40001`, 'pod-2'],
    [`${NAT}:5555`, 'pod-3'],
  ]);
  t.equal(finalPodsMatchConntrack(report, table).pass, true);
  table.set(`${NAT}:5555`, 'pod-1');
  t.match(finalPodsMatchConntrack(report, table).detail, `#2 ${NAT}:5555 reported pod-3, conntrack pod-1`);
});
