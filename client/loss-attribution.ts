// Which side of a session lost its datagrams: the request on the way to the server, or the reply
// on the way back. Our server counts the requests it received from each session and puts the
// count in every reply (SESSION-REQUEST-COUNT). Between two replies from the same pod, the
// counter's step minus one is how many of the requests in between reached the server; those of
// them never answered had their reply lost, the other losses were requests that never arrived.
// Pure: the session hands in a view of its request states, nothing here reads a clock or a socket.

/** What became of one request, as far as attribution cares. */
export type RequestFate = 'pending' | 'answered' | 'lost' | 'other';

/** A session's window of requests, seen by the attribution. */
export interface RequestWindow {
  /** The oldest sequence number still tracked: older gaps can no longer be settled. */
  oldestTracked(): number;
  fateOf(sequence: number): RequestFate;
  /** Marks a lost request as lost on the way to the server (`request`) or back (`reply`). */
  attribute(sequence: number, side: 'request' | 'reply'): void;
}

/** A stretch of requests between two replies that both carried the server's request counter. */
interface CounterGap {
  fromSequence: number;
  toSequence: number;
  /** Requests the server received strictly between the two replies. */
  arrived: number;
}

export class LossAttribution {
  private anchorSequence = -1;
  private anchorCount = 0;
  private readonly gaps: CounterGap[] = [];

  constructor(private readonly requests: RequestWindow) {}

  /**
   * After the newest reply so far (request `sequence`), with the server's counter when it sent
   * one; `samePod` is false when the reply came from another pod than the previous one.
   */
  reply(sequence: number, count: number | undefined, samePod: boolean): void {
    if (count === undefined) {
      this.anchorSequence = -1;
      return;
    }
    if (samePod && this.anchorSequence >= 0 && count > this.anchorCount) {
      this.gaps.push({ fromSequence: this.anchorSequence, toSequence: sequence, arrived: count - this.anchorCount - 1 });
      this.settle();
    }
    // A pod change or a counter that went backwards (server restarted, or its session table
    // forgot us) leaves the stretch before this reply unattributed.
    this.anchorSequence = sequence;
    this.anchorCount = count;
  }

  /** Attributes the losses of every gap none of whose requests is pending any more. */
  settle(): void {
    const requests = this.requests;
    while (this.gaps.length > 0) {
      const gap = this.gaps[0]!;
      if (gap.fromSequence < requests.oldestTracked()) {
        this.gaps.shift();
        continue;
      }
      let answered = 0;
      let lost = 0;
      for (let s = gap.fromSequence + 1; s < gap.toSequence; s++) {
        const fate = requests.fateOf(s);
        if (fate === 'pending') return;
        if (fate === 'answered') answered++;
        else if (fate === 'lost') lost++;
      }
      this.gaps.shift();
      let replyLosses = Math.min(lost, Math.max(0, gap.arrived - answered));
      for (let s = gap.fromSequence + 1; s < gap.toSequence; s++) {
        if (requests.fateOf(s) !== 'lost') continue;
        requests.attribute(s, replyLosses-- > 0 ? 'reply' : 'request');
      }
    }
  }

  /** True while some gap waits for its pending requests. */
  get unsettled(): boolean {
    return this.gaps.length > 0;
  }
}
