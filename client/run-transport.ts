// How a run's sessions reach the target: one UDP socket each (client/session-sockets.ts), or one
// long-lived TCP connection each (client/session-connections.ts, --protocol tcp). The lifecycle in
// run.ts sees one shape; what only TCP has (connections per pod, retransmissions) stays here.
import { connectionReportOf, type ReportConnections } from './connection-report.js';
import { DEFAULT_RECONNECT, type ConnectionLoss, type GiveUp, type ReconnectPolicy, type Reconnection } from './connection-state.js';
import type { ConnectionStep } from './connection-table.js';
import { openSessionConnections, type SessionConnections } from './session-connections.js';
import type { SessionSocket } from './session-socket.js';
import { openSessionSockets, type SessionSocketsOptions } from './session-sockets.js';
import { kernelReceiveDrops } from './socket-drops.js';
import { readTcpRetransmits, retransmitsBetween } from './tcp-retransmissions.js';

/** The UDP sockets' options, and what only TCP uses. */
export interface RunTransportOptions extends SessionSocketsOptions {
  protocol?: 'udp' | 'tcp';
  reconnect?: ReconnectPolicy;
  /** TCP: a connection lost, one back, a session that stopped reconnecting (printed and logged by the run's output). */
  onConnectionLoss: (session: number, loss: ConnectionLoss) => void;
  onReconnection: (session: number, reconnection: Reconnection) => void;
  onGiveUp: (session: number, giveUp: GiveUp) => void;
}

/** What the report needs of the transport once it is closed. */
export interface TransportEnd {
  clientSocketDrops: number | undefined;
  localPorts: readonly (number | undefined)[];
  connections?: ReportConnections;
}

export interface RunTransport {
  /** UDP only: the sockets (for tests and the live view). */
  readonly udpSockets: readonly SessionSocket[];
  readonly connections?: SessionConnections;
  readonly undecodable: number;
  readonly errors: Readonly<Record<string, number>>;
  /** Whether session `index` may send now: over TCP only on an open connection. */
  ready(index: number, now: number): boolean;
  send(index: number, message: Buffer): void;
  /** TCP: closes the stats tick's step of connections open, lost and reconnected per pod. */
  connectionStep(now: number): ConnectionStep | undefined;
  close(endedAt: number): TransportEnd;
}

export async function openRunTransport(options: RunTransportOptions): Promise<RunTransport> {
  const { sessions, target, clock, onReply } = options;
  if (options.protocol === 'tcp') {
    const retransmitsAtStart = readTcpRetransmits();
    const connections = await openSessionConnections({
      sessions,
      target,
      clock,
      policy: options.reconnect ?? DEFAULT_RECONNECT,
      onReply,
      onLoss: (session, loss) => options.onConnectionLoss(session.number, loss),
      onReconnection: (session, r) => options.onReconnection(session.number, r),
      onGiveUp: (session, giveUp) => options.onGiveUp(session.number, giveUp),
    });
    return {
      udpSockets: [],
      connections,
      get undecodable() {
        return connections.undecodable;
      },
      get errors() {
        return connections.errors;
      },
      ready: (index, now) => connections.ready(index, now),
      send: (index, message) => connections.send(index, message),
      connectionStep: (now) => connections.table.step(now, connections.openPerPod()),
      close: (endedAt) => {
        connections.close();
        for (const state of connections.states) state.finish(endedAt);
        const retransmissions = retransmitsBetween(retransmitsAtStart, readTcpRetransmits());
        return {
          clientSocketDrops: undefined,
          localPorts: connections.localPorts,
          connections: connectionReportOf({ sessions, states: connections.states, table: connections.table, retransmissions }),
        };
      },
    };
  }
  const udp = await openSessionSockets({
    sessions,
    target,
    ...(options.extraTargets ? { extraTargets: options.extraTargets } : {}),
    clock,
    recvBufferBytes: options.recvBufferBytes,
    bindAddress: options.bindAddress,
    onReply,
  });
  return {
    udpSockets: udp.sockets,
    get undecodable() {
      return udp.undecodable;
    },
    get errors() {
      return udp.errors;
    },
    ready: () => true,
    send: (index, message) => udp.send(index, message),
    connectionStep: () => undefined,
    close: () => {
      const localPorts = udp.sockets.map((s) => s.localPort);
      // Read before closing: the kernel's drop counters go with the sockets.
      const clientSocketDrops = kernelReceiveDrops(udp.sockets.map((s) => ({ address: s.localAddress, port: s.localPort })));
      udp.close();
      return { clientSocketDrops, localPorts };
    },
  };
}
