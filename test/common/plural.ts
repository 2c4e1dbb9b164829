import t from 'tap';
import { plural } from '../../common/plural.js';

t.test('plural() adds an "s" to every count but one', async (t) => {
  t.equal(plural(0, 'violation'), '0 violations');
  t.equal(plural(1, 'violation'), '1 violation');
  t.equal(plural(57, 'other session'), '57 other sessions');
});
