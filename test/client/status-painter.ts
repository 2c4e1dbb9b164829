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

t.test('line() clears the status row, writes the line and draws the status line below it again, the cursor at its start', async (t) => {
  const { painter, written } = setUp();
  painter.refresh();
  painter.line('an event');
  t.strictSame(written, [`${CLEAR_LINE}status 1 at 80\r`, `${CLEAR_LINE}an event\nstatus 1 at 80\r`]);
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
