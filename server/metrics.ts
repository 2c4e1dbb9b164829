// Prometheus metrics for one running server, read from its live counters at scrape time, so
// the hot path only increments plain numbers and prom-client is never touched per datagram.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { DROP_REASONS } from './responder.js';
import { TCP_CLOSE_REASONS, TCP_REFUSALS } from './tcp-responder.js';
import type { RunningTcpStunServer } from './tcp-server.js';
import type { RunningStunServer } from './udp-server.js';

export const METRIC_PREFIX = 'affinity_tester_server_';

export interface ServerMetricsOptions {
  defaultMetrics?: boolean;
  /** The TCP side, when the server runs one: its metrics are left out otherwise. */
  tcp?: RunningTcpStunServer;
}

/** A registry of its own (not prom-client's global one), so several servers can share a process. */
export function createServerMetrics(server: RunningStunServer, options: ServerMetricsOptions = {}): Registry {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const { counters } = server;


  new Counter({
    name: `${METRIC_PREFIX}requests_total`,
    help: 'UDP datagrams received on the STUN port, valid or not.',
    registers: [registry],
    collect() {
      mirror(this, counters.requests);
    },
  });
  new Counter({
    name: `${METRIC_PREFIX}replies_total`,
    help: 'Binding Success Responses sent.',
    registers: [registry],
    collect() {
      mirror(this, counters.replies);
    },
  });
  new Counter({
    name: `${METRIC_PREFIX}drops_total`,
    help: 'Datagrams dropped without a reply, by reason.',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const reason of DROP_REASONS) this.inc({ reason }, counters.drops[reason]);
      this.inc({ reason: 'send-backlog' }, counters.sendBacklogDrops);
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}active_sessions`,
    help: 'Sessions heard from within the session idle timeout.',
    registers: [registry],
    collect() {
      this.set(server.activeSessions());
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}socket_buffer_bytes`,
    help: 'Effective UDP socket buffer sizes, as the kernel reports them.',
    labelNames: ['direction'],
    registers: [registry],
    collect() {
      this.set({ direction: 'receive' }, server.bufferSizes.recv);
      this.set({ direction: 'send' }, server.bufferSizes.send);
    },
  });
  if (options.tcp) registerTcpMetrics(registry, options.tcp);
  return registry;
}

// prom-client counters only go up by inc(); at scrape time set them to the live value.
function mirror(counter: Counter, value: number): void {
  counter.reset();
  counter.inc(value);
}

function registerTcpMetrics(registry: Registry, tcp: RunningTcpStunServer): void {
  const { counters } = tcp;
  const byReason = <R extends string>(name: string, help: string, reasons: readonly R[], values: Record<R, number>): void => {
    new Counter({
      name: `${METRIC_PREFIX}${name}`,
      help,
      labelNames: ['reason'],
      registers: [registry],
      collect() {
        this.reset();
        for (const reason of reasons) this.inc({ reason }, values[reason]);
      },
    });
  };
  new Gauge({
    name: `${METRIC_PREFIX}tcp_connections_open`,
    help: 'TCP connections open now.',
    registers: [registry],
    collect() {
      this.set(tcp.openConnections());
    },
  });
  new Counter({
    name: `${METRIC_PREFIX}tcp_connections_accepted_total`,
    help: 'TCP connections accepted.',
    registers: [registry],
    collect() {
      mirror(this, counters.accepted);
    },
  });
  byReason('tcp_connections_refused_total', 'TCP connections reset at once, by reason (max-connections, bad-source).', TCP_REFUSALS, counters.refused);
  byReason('tcp_connections_closed_total', 'TCP connections closed, by who closed them and why.', TCP_CLOSE_REASONS, counters.closed);
  new Counter({
    name: `${METRIC_PREFIX}tcp_requests_total`,
    help: 'Whole STUN messages received on TCP connections, valid or not.',
    registers: [registry],
    collect() {
      mirror(this, counters.requests);
    },
  });
  new Counter({
    name: `${METRIC_PREFIX}tcp_replies_total`,
    help: 'Binding Success Responses sent on TCP connections.',
    registers: [registry],
    collect() {
      mirror(this, counters.replies);
    },
  });
  byReason('tcp_drops_total', 'Well-framed messages on TCP connections not answered, by reason.', DROP_REASONS, counters.drops);
}
