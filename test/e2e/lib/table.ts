// The scenario table both the tap test and `npm run e2e` print. Pure.

export interface TableRow {
  scenario: string;
  family: string;
  layout: string;
  expected: string;
  reported: string;
  result: string;
}

const HEADERS: TableRow = { scenario: 'scenario', family: 'family', layout: 'layout', expected: 'expected (kernel ground truth)', reported: 'reported by the client', result: 'result' };
const COLUMNS = Object.keys(HEADERS) as (keyof TableRow)[];

/** A plain-text table; cells wider than `maxWidth` wrap onto further lines. */
export function formatTable(rows: readonly TableRow[], maxWidth = 48): string {
  const all = [HEADERS, ...rows];
  const widths = COLUMNS.map((c) => Math.min(maxWidth, Math.max(...all.map((r) => r[c].length))));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ').trimEnd();
  const out: string[] = [];
  all.forEach((row, index) => {
    const wrapped = COLUMNS.map((c, i) => wrap(row[c], widths[i]!));
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
