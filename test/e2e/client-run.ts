import t from 'tap';
import { missingReportFields } from './lib/client-run.js';

t.test('missingReportFields() names each field of the client report the scenarios need and lack', async (t) => {
  t.same(missingReportFields(null).slice(0, 2), ['totals.sessions', 'totals.sent']);
  const complete = {
    totals: { sessions: 1, sent: 1, lost: 0, lostRequests: 0, lostReplies: 0, podChanges: 0, addressChanges: 0, lossPercent: 0, longestOutageMs: 0 },
    pods: [],
    events: [],
    sessions: [{ session: 1, localPort: 4000, pod: 'pod-1', mappedAddress: '203.0.113.2:4000', podChanges: 0, addressChanges: 0, lost: 0, longestOutageMs: 0 }],
  };
  t.same(missingReportFields(complete), []);
  const { localPort: _dropped, ...withoutPort } = complete.sessions[0]!;
  t.same(missingReportFields({ ...complete, sessions: [withoutPort] }), ['sessions[].localPort']);
  t.same(missingReportFields({ ...complete, events: undefined }), ['events']);
});
