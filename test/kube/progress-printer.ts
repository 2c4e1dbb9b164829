import t from 'tap';
import { progressPrinter } from '../../kube/progress-printer.js';

t.test('progressPrinter() on a terminal replaces each line and ends the last with a newline', async (t) => {
  let written = '';
  const printer = progressPrinter((text) => (written += text), true, () => 0);
  printer.line('waiting 1');
  printer.line('waiting 2');
  printer.done();
  printer.done();
  t.equal(written, '\r\x1b[2Kwaiting 1\r\x1b[2Kwaiting 2\n', 'done() adds one newline only after a replaced line');
});

t.test('progressPrinter() off a terminal keeps lines but thins waiting lines to one each 10 s', async (t) => {
  const lines: string[] = [];
  const time = { now: 5_000 };
  const printer = progressPrinter((text) => lines.push(text), false, () => time.now);
  printer.line('waiting (0ms)');
  time.now = 14_999;
  printer.line('waiting (9.99s)');
  printer.line('creating namespace x');
  time.now = 15_000;
  printer.line('waiting (10.0s)');
  printer.done();
  t.same(lines, ['waiting (0ms)\n', 'creating namespace x\n', 'waiting (10.0s)\n']);
});
