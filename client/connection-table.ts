// The run's TCP connections per pod, step by step (ctraffic's per-replica table): how many
// connections each pod holds at every stats tick, and how many were lost on it and reconnected
// since the tick before. Pure: the connections hand in losses, reconnections and the open count
// per pod; the report and the stats line read it.
import { emptyEnds, type ConnectionEnd, type ConnectionLoss, type Reconnection } from './connection-state.js';

/** Where a connection was when it was lost and it had never answered. */
export const NO_POD = '(no answer yet)';

export interface ConnectionPodRow {
  pod: string;
  /** Connections lost while on this pod, in all and by how they ended. */
  lost: number;
  lostBy: Record<ConnectionEnd, number>;
  /** Reconnections whose new connection landed here, and of them those that came from another pod. */
  landed: number;
  movedIn: number;
}

export interface ConnectionStep {
  time: number;
  /** Open connections per pod (by their latest answer) at this tick. */
  open: Record<string, number>;
  /** Lost and reconnected per pod since the previous tick. */
  lost: Record<string, number>;
  reconnected: Record<string, number>;
}

export class ConnectionTable {
  private readonly rows = new Map<string, ConnectionPodRow>();
  private stepLost: Record<string, number> = {};
  private stepReconnected: Record<string, number> = {};
  private readonly stepList: ConnectionStep[] = [];

  constructor(private readonly maxSteps = 10_000) {}

  private row(pod: string): ConnectionPodRow {
    let row = this.rows.get(pod);
    if (row === undefined) {
      row = { pod, lost: 0, lostBy: emptyEnds(), landed: 0, movedIn: 0 };
      this.rows.set(pod, row);
    }
    return row;
  }

  lost(loss: ConnectionLoss): void {
    const pod = loss.pod ?? NO_POD;
    const row = this.row(pod);
    row.lost++;
    row.lostBy[loss.end]++;
    this.stepLost[pod] = (this.stepLost[pod] ?? 0) + 1;
  }

  reconnected(reconnection: Reconnection): void {
    const row = this.row(reconnection.to);
    row.landed++;
    if (reconnection.moved) row.movedIn++;
    this.stepReconnected[reconnection.to] = (this.stepReconnected[reconnection.to] ?? 0) + 1;
  }

  /** Closes a step at `time` with the open connections per pod now; returns it. */
  step(time: number, open: Record<string, number>): ConnectionStep {
    const step = { time, open, lost: this.stepLost, reconnected: this.stepReconnected };
    this.stepLost = {};
    this.stepReconnected = {};
    if (this.stepList.length < this.maxSteps) this.stepList.push(step);
    return step;
  }

  /** One row per pod that lost or gained a connection, by pod name. */
  pods(): ConnectionPodRow[] {
    return [...this.rows.values()].sort((a, b) => a.pod.localeCompare(b.pod));
  }

  get steps(): readonly ConnectionStep[] {
    return this.stepList;
  }
}
