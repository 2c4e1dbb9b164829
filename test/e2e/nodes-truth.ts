import t from 'tap';
import type { ReportView } from './lib/client-run.js';
import { nodesTruth, reportedClasses, type KernelStep } from './lib/nodes-truth.js';

type Session = ReportView['sessions'][number];
type Event = ReportView['events'][number];

function session(n: number, localPort: number, pod: string, mappedAddress: string): Session {
  return { session: n, localPort, lost: 0, lostRequests: 0, lostReplies: 0, podChanges: 0, addressChanges: 0, longestOutageMs: 0, pod, mappedAddress };
}

function change(type: 'pod-change' | 'address-change', n: number, from: string, to: string): Event {
  return { time: '2026-11-29T22:00:01.000Z', type, session: n, from, to, silentMs: 100 };
}

const pods: Record<string, string> = { '198.51.100.26': 'pod-1', '198.51.100.42': 'pod-2' };
const podName = (ip: string) => pods[ip] ?? ip;

/** A node scale-up under Cluster: #1 stays on node-1; #2 is re-hashed from node-1 to node-3, which masquerades it and picks pod-2. */
const before: KernelStep = {
  routes: new Map([
    [40001, 'node-1'],
    [40002, 'node-1'],
  ]),
  flows: new Map([
    [
      'node-1',
      new Map([
        ['192.0.2.10:40001', { backend: '198.51.100.26', seen: '198.51.100.17:5001' }],
        ['192.0.2.10:40002', { backend: '198.51.100.26', seen: '198.51.100.17:5002' }],
      ]),
    ],
  ]),
};
const after: KernelStep = {
  routes: new Map([
    [40001, 'node-1'],
    [40002, 'node-3'],
  ]),
  flows: new Map([
    ['node-1', before.flows.get('node-1')!],
    ['node-3', new Map([['192.0.2.10:40002', { backend: '198.51.100.42', seen: '203.0.113.13:7002' }]])],
  ]),
};
const sessions = [session(1, 40001, 'pod-1', '198.51.100.17:5001'), session(2, 40002, 'pod-2', '203.0.113.13:7002')];
const faithful = [change('pod-change', 2, 'pod-1', 'pod-2'), change('address-change', 2, '198.51.100.17:5002', '203.0.113.13:7002')];

t.test('nodesTruth() follows each flow to the node the balancer routes it to, and that node\'s conntrack entry', async (t) => {
  const truth = nodesTruth({ clientIp: '192.0.2.10', steps: [before, after, after], podName, report: { sessions, events: faithful } });
  t.same(truth.moved, [2]);
  t.same([...truth.moves], [['node-1→node-3', [2]]]);
  t.equal(truth.podChanges, 1);
  t.equal(truth.addressChanges, 1);
  t.same(truth.wrong, []);
});

t.test('nodesTruth() names a session whose reported pods or addresses differ from the kernel\'s', async (t) => {
  const missed = nodesTruth({ clientIp: '192.0.2.10', steps: [before, after], podName, report: { sessions, events: faithful.slice(0, 1) } });
  t.same(missed.wrong, ['#2 addresses 203.0.113.13:7002, kernel 198.51.100.17:5002 -> 203.0.113.13:7002']);
  const extra = [...faithful, change('pod-change', 1, 'pod-1', 'pod-2')];
  const wrongPod = nodesTruth({ clientIp: '192.0.2.10', steps: [before, after], podName, report: { sessions, events: extra } });
  t.same(wrongPod.wrong, ['#1 pods pod-1 -> pod-2, kernel pod-1']);
});

t.test('nodesTruth() says so when the routed node holds no entry for a flow, or the report has no port', async (t) => {
  const lost: KernelStep = { routes: after.routes, flows: new Map([['node-1', before.flows.get('node-1')!]]) };
  const truth = nodesTruth({ clientIp: '192.0.2.10', steps: [before, lost], podName, report: { sessions, events: faithful } });
  t.same(truth.wrong, ['#2: no conntrack entry on node-3 for 192.0.2.10:40002 at look 2']);
  t.same(truth.moved, [], 'a flow the kernel cannot place is not counted as moved');
  const portless = nodesTruth({ clientIp: '192.0.2.10', steps: [before], podName, report: { sessions: [{ ...sessions[0]!, localPort: null }], events: [] } });
  t.same(portless.wrong, ['#1: no local port in the report']);
  const unrouted = nodesTruth({ clientIp: '192.0.2.10', steps: [{ routes: new Map(), flows: before.flows }], podName, report: { sessions: [sessions[0]!], events: [] } });
  t.same(unrouted.wrong, ['#1: no route for 192.0.2.10:40001 at look 1']);
});

t.test('reportedClasses() counts the verdict classes the events carry, and is undefined when they carry none', async (t) => {
  t.equal(reportedClasses({ events: faithful }), undefined);
  const classed: Event[] = ['violation', 'violation', 'expected'].map((name) => Object.assign({ ...faithful[0]! }, { class: name }));
  t.equal(reportedClasses({ events: classed }), 'violation 2, expected 1');
  const findings = [{ type: 'move', class: 'violation' }, { type: 'address-change', class: 'with-pod-change' }, { type: 'move', class: 'violation' }];
  t.equal(reportedClasses({ events: faithful, breaks: { findings } }), 'violation 2', 'moves from the breaks section');
});
