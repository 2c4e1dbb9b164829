import t from 'tap';
import { endpointRecords, eventRecord, labelSelector, nodeRecord, podRecord, serviceRecord } from '../../kube/records.js';

t.test('serviceRecord() keeps UDP ports and puts ingress IPs before host names', async (t) => {
  const record = serviceRecord({
    metadata: { name: 's' },
    spec: { type: 'LoadBalancer', selector: { app: 'x' }, ports: [{ protocol: 'TCP', port: 80 }, { name: 'stun', protocol: 'UDP', port: 3478 }] },
    status: { loadBalancer: { ingress: [{ hostname: 'lb.example.net' }, { ip: '203.0.113.1' }] } },
  });
  t.same(record, { name: 's', type: 'LoadBalancer', selector: { app: 'x' }, udpPorts: [{ name: 'stun', port: 3478 }], ingress: ['203.0.113.1', 'lb.example.net'] });
  t.same(serviceRecord({}), { name: '', type: 'ClusterIP', selector: {}, udpPorts: [], ingress: [] });
});

t.test('labelSelector() joins labels as key=value pairs', async (t) => {
  t.equal(labelSelector({ a: '1', 'app.kubernetes.io/name': 'x' }), 'a=1,app.kubernetes.io/name=x');
  t.equal(labelSelector({}), '');
});

t.test('podRecord() reads name, node, IPs (both families), Ready and deletion', async (t) => {
  t.same(
    podRecord({
      metadata: { name: 'p', deletionTimestamp: new Date() },
      spec: { nodeName: 'n' },
      status: { podIP: '10.0.0.1', podIPs: [{ ip: '10.0.0.1' }, { ip: '2001:db8::1' }], conditions: [{ type: 'Ready', status: 'True' }] },
    }),
    { name: 'p', node: 'n', ips: ['10.0.0.1', '2001:db8::1'], ready: true, terminating: true },
  );
  t.same(podRecord({ metadata: { name: 'q' }, status: { conditions: [{ type: 'Ready', status: 'False' }] } }), { name: 'q', ips: [], ready: false, terminating: false });
});

t.test('endpointRecords() gives one record per address; a missing ready condition means ready', async (t) => {
  t.same(
    endpointRecords({
      endpoints: [
        { addresses: ['10.0.0.1'], conditions: {}, nodeName: 'n', targetRef: { kind: 'Pod', name: 'p' } },
        { addresses: ['10.0.0.2'], conditions: { ready: false, terminating: true } },
      ],
    }),
    [
      { address: '10.0.0.1', pod: 'p', node: 'n', ready: true, terminating: false },
      { address: '10.0.0.2', ready: false, terminating: true },
    ],
  );
  t.same(endpointRecords({}), []);
});

t.test('nodeRecord() and eventRecord() read Ready and the event key with its count', async (t) => {
  t.same(nodeRecord({ metadata: { name: 'n' }, status: { conditions: [{ type: 'Ready', status: 'Unknown' }] } }), { name: 'n', ready: false });
  t.same(
    eventRecord({ metadata: { uid: 'u' }, type: 'Warning', reason: 'BackOff', message: 'Back-off\n restarting', count: 3, involvedObject: { kind: 'Pod', name: 'p' } }),
    { key: 'u#3', type: 'Warning', reason: 'BackOff', object: 'pod/p', message: 'Back-off restarting' },
  );
  t.equal(eventRecord({ metadata: { uid: 'u' }, series: { count: 5 }, count: 1 }).key, 'u#5', 'series.count (events.k8s.io style) wins');
});
