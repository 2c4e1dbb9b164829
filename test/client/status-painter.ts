import t from 'tap';
import { CLEAR_LINE, StatusPainter } from '../../client/status-painter.js';

function setUp() {
  const written: string[] = [];
  let columns = 80;
  let renders = 0;
  const painter = new StatusPainter({
    out: (text) => written.push(text),
    render: (width) => `status ${++renders} at ${width}`,
    columns: () => columns,
  });
  return { painter, written, resize: (n: number) => (columns = n) };
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

t.test('line() clears the status row and writes the line; the status line is drawn below it again at the end of the turn, the cursor at its start', async (t) => {
  const { painter, written } = setUp();
  painter.refresh();
  painter.line('an event');
  t.strictSame(written, [`${CLEAR_LINE}status 1 at 80\r`, `${CLEAR_LINE}an event\n`]);
  await nextTurn();
  t.strictSame(written, [`${CLEAR_LINE}status 1 at 80\r`, `${CLEAR_LINE}an event\n`, `${CLEAR_LINE}status 1 at 80\r`]);
});

t.test('lines of one turn go out one after the other with the status line once below them, not after each', async (t) => {
  const { painter, written } = setUp();
  painter.refresh();
  painter.line('one');
  painter.line('two');
  painter.line('three');
  await nextTurn();
  t.strictSame(written, [`${CLEAR_LINE}status 1 at 80\r`, `${CLEAR_LINE}one\n`, 'two\n', 'three\n', `${CLEAR_LINE}status 1 at 80\r`]);
});

t.test('a refresh or a stop() in the same turn replaces the pending redraw', async (t) => {
  const { painter, written } = setUp();
  painter.refresh();
  painter.line('an event');
  painter.refresh();
  await nextTurn();
  t.strictSame(written, [`${CLEAR_LINE}status 1 at 80\r`, `${CLEAR_LINE}an event\n`, `${CLEAR_LINE}status 2 at 80\r`], 'drawn once, by the refresh');
  painter.line('last');
  painter.stop();
  await nextTurn();
  t.strictSame(written.slice(3), [`${CLEAR_LINE}last\n`, CLEAR_LINE], 'nothing drawn after stop()');
});

t.test('refresh() renders at the width of the moment, so it follows resizes', async (t) => {
  const { painter, written, resize } = setUp();
  painter.refresh();
  resize(160);
  painter.refresh();
  t.strictSame(written, [`${CLEAR_LINE}status 1 at 80\r`, `${CLEAR_LINE}status 2 at 160\r`]);
});

t.test('stop() erases the status line once; after it lines are plain and refresh() draws nothing', async (t) => {
  const { painter, written } = setUp();
  painter.start(60_000);
  painter.stop();
  painter.stop();
  painter.refresh();
  painter.line('summary');
  t.strictSame(written, [`${CLEAR_LINE}status 1 at 80\r`, CLEAR_LINE, 'summary\n']);
});
