// The scenario table both the tap test and `npm run e2e` print. Pure.

export interface TableRow {
  scenario: string;
  family: string;
  layout: string;
  expected: string;
  reported: string;
  /** The verdict scenarios' classes (issue 9), each `kernel / client`; the columns show when a row has them. */
  expectedMoves?: string;
  violations?: string;
  stuck?: string;
  result: string;
}

type Column = keyof TableRow;

const HEADERS: Record<Column, string> = {
  scenario: 'scenario',
  family: 'family',
  layout: 'layout',
  expected: 'expected (kernel ground truth)',
  reported: 'reported by the client',
  expectedMoves: 'expected moves kernel/client',
  violations: 'violations kernel/client',
  stuck: 'stuck kernel/client',
  result: 'result',
};

const CLASS_COLUMNS: Column[] = ['expectedMoves', 'violations', 'stuck'];

/** The class columns hold `8 / 8`: narrow, their headers wrap. */
const CLASS_WIDTH = 13;

/** A plain-text table; cells wider than `maxWidth` wrap onto further lines. */
export function formatTable(rows: readonly TableRow[], maxWidth = 48): string {
  const classes = rows.some((row) => CLASS_COLUMNS.some((c) => row[c] !== undefined));
  const columns: Column[] = ['scenario', 'family', 'layout', 'expected', 'reported', ...(classes ? CLASS_COLUMNS : []), 'result'];
  const all = [HEADERS, ...rows];
  const widths = columns.map((c) => Math.min(CLASS_COLUMNS.includes(c) ? CLASS_WIDTH : maxWidth, Math.max(...all.map((r) => (r[c] ?? '').length))));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ').trimEnd();
  const out: string[] = [];
  all.forEach((row, index) => {
    const wrapped = columns.map((c, i) => wrap(row[c] ?? '', widths[i]!));
    const height = Math.max(...wrapped.map((w) => w.length));
    for (let k = 0; k < height; k++) out.push(line(wrapped.map((w) => w[k] ?? '')));
    if (index === 0) out.push(widths.map((w) => '-'.repeat(w)).join('-|-'));
  });
  return out.join('\n');
}

/** Splits `text` at spaces into lines of at most `width` (a longer word gets a line of its own). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let current = '';
  for (const word of text.split(' ')) {
    if (current === '') current = word;
    else if (current.length + 1 + word.length <= width) current += ` ${word}`;
    else {
      lines.push(current);
      current = word;
    }
  }
  lines.push(current);
  return lines;
}
