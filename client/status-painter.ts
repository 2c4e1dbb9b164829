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
  /** Whether the status line is on the screen now (an event line took its row until the redraw). */
  private drawn = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private redraw: NodeJS.Immediate | undefined;

  constructor(private readonly options: StatusPainterOptions) {}

  /**
   * An event line above the status line. The status line comes back once the lines of this turn
   * are written, not after each: a ramp of 10,000 sessions writes 1,000 lines a second, and a
   * status line after every one tripled what went to the terminal.
   */
  line(text: string): void {
    if (this.stopped) return this.options.out(text + '\n');
    this.options.out(this.drawn ? `${CLEAR_LINE}${text}\n` : `${text}\n`);
    this.drawn = false;
    this.redraw ??= setImmediate(() => {
      this.redraw = undefined;
      this.draw();
    });
  }

  /** Renders the status line again and draws it in place. */
  refresh(): void {
    if (this.stopped) return;
    this.status = this.options.render(this.options.columns());
    this.draw();
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
    clearImmediate(this.redraw);
    this.stopped = true;
    this.options.out(CLEAR_LINE);
  }

  private draw(): void {
    if (this.stopped) return;
    clearImmediate(this.redraw);
    this.redraw = undefined;
    this.options.out(CLEAR_LINE + this.status + HOME);
    this.drawn = true;
  }
}
