// A rate limit on "new session" log lines: a flood of fresh session ids must not become a flood
// of logs. Pure, with time passed in: the socket adapter asks it about each new session, a test
// steps the clock by hand.

export interface NewSessionLogDecision {
  /** Log this new session. */
  log: boolean;
  /** New sessions left unlogged in the last second that had any, to report first; 0 for none. */
  suppressed: number;
}

/** Shared, frozen answers for the usual cases, so a flood of new sessions allocates nothing. */
const LOG: NewSessionLogDecision = Object.freeze({ log: true, suppressed: 0 });
const SKIP: NewSessionLogDecision = Object.freeze({ log: false, suppressed: 0 });

/** At most `perSecond` lines in each second of the clock (windows start on whole seconds). */
export class NewSessionLogBudget {
  private second = Number.NEGATIVE_INFINITY;
  private logged = 0;
  private suppressed = 0;

  constructor(private readonly perSecond: number) {}

  /** Whether to log a new session seen at `now` (ms), and how many went unlogged before it. */
  admit(now: number): NewSessionLogDecision {
    const second = Math.floor(now / 1000);
    let suppressed = 0;
    if (second !== this.second) {
      suppressed = this.suppressed;
      this.second = second;
      this.logged = 0;
      this.suppressed = 0;
    }
    const log = this.logged < this.perSecond;
    if (log) this.logged++;
    else this.suppressed++;
    if (suppressed === 0) return log ? LOG : SKIP;
    return { log, suppressed };
  }
}
