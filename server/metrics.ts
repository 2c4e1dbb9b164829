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

  liveCounter(registry, 'requests_total', 'UDP datagrams received on the STUN port, valid or not.', () => counters.requests);
  liveCounter(registry, 'replies_total', 'Binding Success Responses sent.', () => counters.replies);
  liveCounterByReason(registry, 'drops_total', 'Datagrams dropped without a reply, by reason.', () => [
    ...DROP_REASONS.map((reason) => [reason, counters.drops[reason]] as const),
    ['send-backlog', counters.sendBacklogDrops] as const,
  ]);
  liveGauge(registry, 'active_sessions', 'Sessions heard from within the session idle timeout.', () => server.activeSessions());
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

function registerTcpMetrics(registry: Registry, tcp: RunningTcpStunServer): void {
  const { counters } = tcp;
  const entries = <R extends string>(reasons: readonly R[], values: Record<R, number>) => () => reasons.map((reason) => [reason, values[reason]] as const);
  liveGauge(registry, 'tcp_connections_open', 'TCP connections open now.', () => tcp.openConnections());
  liveCounter(registry, 'tcp_connections_accepted_total', 'TCP connections accepted.', () => counters.accepted);
  liveCounterByReason(
    registry,
    'tcp_connections_refused_total',
    'TCP connections reset at once, by reason (max-connections, bad-source).',
    entries(TCP_REFUSALS, counters.refused),
  );
  liveCounterByReason(registry, 'tcp_connections_closed_total', 'TCP connections closed, by who closed them and why.', entries(TCP_CLOSE_REASONS, counters.closed));
  liveCounter(registry, 'tcp_requests_total', 'Whole STUN messages received on TCP connections, valid or not.', () => counters.requests);
  liveCounter(registry, 'tcp_replies_total', 'Binding Success Responses sent on TCP connections.', () => counters.replies);
  liveCounterByReason(registry, 'tcp_drops_total', 'Well-framed messages on TCP connections not answered, by reason.', entries(DROP_REASONS, counters.drops));
}

// prom-client counters only go up by inc(); at scrape time they are reset to the live value.

function liveCounter(registry: Registry, name: string, help: string, read: () => number): void {
  new Counter({
    name: `${METRIC_PREFIX}${name}`,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

function liveCounterByReason(registry: Registry, name: string, help: string, read: () => readonly (readonly [string, number])[]): void {
  new Counter({
    name: `${METRIC_PREFIX}${name}`,
    help,
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [reason, value] of read()) this.inc({ reason }, value);
    },
  });
}

function liveGauge(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name: `${METRIC_PREFIX}${name}`,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}
