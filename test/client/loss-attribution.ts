import t from 'tap';
import { LossAttribution, type RequestFate, type RequestWindow } from '../../client/loss-attribution.js';

/** A window of request fates the test sets by hand, recording what was attributed. */
function window(fates: RequestFate[], oldestTracked = 0) {
  const attributed: [number, 'request' | 'reply'][] = [];
  const requests: RequestWindow = {
    oldestTracked: () => oldestTracked,
    fateOf: (sequence) => fates[sequence] ?? 'other',
    attribute: (sequence, side) => {
      attributed.push([sequence, side]);
      fates[sequence] = 'other';
    },
  };
  return { requests, attributed, fates };
}

t.test('reply() with a counter step of one more than the requests answered in between attributes the losses to requests', async (t) => {
  const { requests, attributed } = window(['answered', 'lost', 'lost', 'answered']);
  const attribution = new LossAttribution(requests);
  attribution.reply(0, 10, true);
  attribution.reply(3, 11, true);
  t.strictSame(attributed, [
    [1, 'request'],
    [2, 'request'],
  ]);
  t.equal(attribution.unsettled, false);
});

t.test('reply() with a counter step covering every request attributes the losses to replies', async (t) => {
  const { requests, attributed } = window(['answered', 'lost', 'lost', 'answered']);
  const attribution = new LossAttribution(requests);
  attribution.reply(0, 1, true);
  attribution.reply(3, 4, true);
  t.strictSame(attributed, [
    [1, 'reply'],
    [2, 'reply'],
  ]);
});

t.test('a gap that reached the server once in three losses gives one lost reply, the rest lost requests', async (t) => {
  const { requests, attributed } = window(['answered', 'lost', 'answered', 'lost', 'lost', 'answered']);
  const attribution = new LossAttribution(requests);
  attribution.reply(0, 1, true);
  attribution.reply(5, 4, true); // 2 arrived between: request 2 (answered) and one of the lost
  t.strictSame(attributed, [
    [1, 'reply'],
    [3, 'request'],
    [4, 'request'],
  ]);
});

t.test('a gap waits while a request in it is pending, and settle() attributes it once none is', async (t) => {
  const { requests, attributed, fates } = window(['answered', 'pending', 'answered']);
  const attribution = new LossAttribution(requests);
  attribution.reply(0, 1, true);
  attribution.reply(2, 2, true);
  t.strictSame(attributed, []);
  t.equal(attribution.unsettled, true);
  fates[1] = 'lost';
  attribution.settle();
  t.strictSame(attributed, [[1, 'request']]);
  t.equal(attribution.unsettled, false);
});

t.test('no gap across a pod change, a reply without a counter, or a counter that went backwards', async (t) => {
  const { requests, attributed } = window(['answered', 'lost', 'answered', 'lost', 'answered', 'lost', 'answered', 'lost', 'answered']);
  const attribution = new LossAttribution(requests);
  attribution.reply(0, 5, true);
  attribution.reply(2, 7, false); // another pod
  attribution.reply(4, undefined, true); // no counter: the anchor is gone
  attribution.reply(6, 9, true);
  attribution.reply(8, 2, true); // the server forgot this session
  t.strictSame(attributed, []);
  t.equal(attribution.unsettled, false);
});

t.test('a gap whose first request is older than the tracked window is dropped unattributed', async (t) => {
  const { requests, attributed } = window(['answered', 'lost', 'answered'], 1);
  const attribution = new LossAttribution(requests);
  attribution.reply(0, 1, true);
  attribution.reply(2, 3, true);
  t.strictSame(attributed, []);
  t.equal(attribution.unsettled, false);
});
