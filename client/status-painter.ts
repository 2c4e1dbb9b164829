// Keeps the status line at the bottom of a terminal: every event line clears it, takes its row,
// and the status line is drawn again below; a timer redraws it in place. What it says is
// status-line.ts; this only moves the cursor.

/** Carriage return, then erase the whole row (ECMA-48 EL with parameter 2). */
export const CLEAR_LINE = '\r\x1b[2K';
/**
 * The cursor waits at the start of the status row: what the terminal echoes there (`^C`) then
 * lands on the status line, which the next draw erases, instead of wrapping past its end.
 */
const HOME = '\r';

export interface StatusPainterOptions {
  /** Writes to the terminal as given (no newline added). */
  out: (text: string) => void;
  /** The status line for this width, already cut to it. */
  render: (width: number) => string;
  /** The terminal's width now (it changes on resize). */
  columns: () => number;
}

export class StatusPainter {
  private status = '';
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: StatusPainterOptions) {}

  /** An event line above the status line. */
  line(text: string): void {
    if (this.stopped) this.options.out(text + '\n');
    else this.options.out(`${CLEAR_LINE}${text}\n${this.status}${HOME}`);
  }

  /** Renders the status line again and draws it in place. */
  refresh(): void {
    if (this.stopped) return;
    this.status = this.options.render(this.options.columns());
    this.options.out(CLEAR_LINE + this.status + HOME);
  }

  /** Redraws every `intervalMs` until stop(); the timer does not keep the process alive. */
  start(intervalMs: number): void {
    this.refresh();
    this.timer = setInterval(() => this.refresh(), intervalMs);
    this.timer.unref();
  }

  /** Erases the status line for good: what follows (the summary) is written on a clean row. */
  stop(): void {
    if (this.stopped) return;
    clearInterval(this.timer);
    this.stopped = true;
    this.options.out(CLEAR_LINE);
  }
}
