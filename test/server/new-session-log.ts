import t from 'tap';
import { NewSessionLogBudget } from '../../server/new-session-log.js';

t.test('admit() logs the first perSecond new sessions of a second and counts the rest', async (t) => {
  const budget = new NewSessionLogBudget(2);
  t.same([1000, 1100, 1200, 1999].map((now) => budget.admit(now)), [
    { log: true, suppressed: 0 },
    { log: true, suppressed: 0 },
    { log: false, suppressed: 0 },
    { log: false, suppressed: 0 },
  ]);
});

t.test('admit() in a later second reports how many went unlogged, once, and logs again', async (t) => {
  const budget = new NewSessionLogBudget(1);
  budget.admit(5000);
  budget.admit(5001);
  budget.admit(5002);
  t.same(budget.admit(7500), { log: true, suppressed: 2 }, 'two left out in second 5, reported in second 7');
  t.same(budget.admit(7600), { log: false, suppressed: 0 });
  t.same(budget.admit(8000), { log: true, suppressed: 1 });
  t.same(budget.admit(9000), { log: true, suppressed: 0 }, 'nothing was left out in second 8');
});

t.test('admit() with a budget of 0 logs nothing and still counts', async (t) => {
  const budget = new NewSessionLogBudget(0);
  t.same(budget.admit(0), { log: false, suppressed: 0 });
  t.same(budget.admit(10), { log: false, suppressed: 0 });
  t.same(budget.admit(1000), { log: false, suppressed: 2 });
});

t.test('admit() returns the same frozen answer each time nothing was suppressed (no allocation per datagram)', async (t) => {
  const budget = new NewSessionLogBudget(1);
  t.equal(budget.admit(0), new NewSessionLogBudget(1).admit(0));
  t.equal(budget.admit(1), budget.admit(2));
  t.ok(Object.isFrozen(budget.admit(3)));
});
