// Prometheus metrics for one running server, read from its live counters at scrape time, so
// the hot path only increments plain numbers and prom-client is never touched per datagram.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { DROP_REASONS } from './responder.js';
import type { RunningStunServer } from './udp-server.js';

export const METRIC_PREFIX = 'affinity_tester_server_';

/** A registry of its own (not prom-client's global one), so several servers can share a process. */
export function createServerMetrics(server: RunningStunServer, options: { defaultMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const { counters } = server;

  // prom-client counters only go up by inc(); at scrape time set them to the live value.
  const mirror = (counter: Counter, value: number, labels?: Record<string, string>): void => {
    counter.reset();
    if (labels) counter.inc(labels, value);
    else counter.inc(value);
  };

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
  return registry;
}
