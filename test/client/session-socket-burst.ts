// The client must never drop a datagram it received: a burst of 500 replies to one session
// socket is accounted for datagram by datagram, as replies/duplicates counted by the client plus
// what the kernel itself dropped for lack of buffer (read from /proc/net/udp), nothing else.
import t from 'tap';
import { createSocket, type RemoteInfo } from 'node:dgram';
import { existsSync, readFileSync } from 'node:fs';
import { Chalk } from 'chalk';
import { encodeBindingSuccess } from '../../common/stun/codec.js';
import { runClient, type RunningClient } from '../../client/run.js';
import { resolveTarget } from '../../client/target.js';
import { parseUdpDrops } from '../../client/socket-drops.js';

const BURST = 500;

/** Kernel receive drops of the UDP socket at `address`:`port`, read independently of the client. */
function kernelDrops(address: string, port: number): number {
  const socket = parseUdpDrops(readFileSync('/proc/net/udp', 'utf8')).find((s) => s.address === address && s.port === port);
  if (socket === undefined) throw new Error(`no UDP socket at ${address}:${port} in /proc/net/udp`);
  return socket.drops;
}

// The default buffer must hold the whole burst; a deliberately tiny one (the kernel's minimum)
// shows that what the kernel drops is accounted for and reported, never silently lost.
for (const recvBufferBytes of [undefined, 1]) {
  t.test(
    `a burst of ${BURST} replies is counted in full by the client (receive buffer ${recvBufferBytes === undefined ? 'default' : 'the kernel minimum'})`,
    { skip: existsSync('/proc/net/udp') ? false : 'needs /proc/net/udp (Linux)' },
    async (t) => {
      const server = createSocket('udp4');
      await new Promise<void>((r) => server.bind(0, '127.0.0.1', r));
      t.teardown(() => server.close());
      const firstRequest = new Promise<[Buffer, RemoteInfo]>((resolve) => server.once('message', (m, r) => resolve([m, r])));
      const controller = new AbortController();
      let running: RunningClient | undefined;
      const done = runClient({
        target: await resolveTarget({ host: '127.0.0.1', port: server.address().port }),
        sessions: 1,
        rampMs: 0,
        intervalMs: 60_000,
        timeoutMs: 60_000,
        payloadSize: 256,
        statsIntervalMs: 60_000,
        limits: { maxLoss: 100, maxViolations: 0, maxStuck: 0 },
        write: () => undefined,
        style: new Chalk({ level: 0 }),
        signal: controller.signal,
        recvBufferBytes,
        onReady: (r) => (running = r),
      });
      const [request, from] = await firstRequest;
      const reply = encodeBindingSuccess({
        transactionId: request.subarray(8, 20),
        mapped: { address: from.address, port: from.port },
        identity: { software: 'burst-test', podName: 'pod-burst' },
        sessionRequestCount: 1,
      });
      for (let i = 0; i < BURST; i++) server.send(reply, from.port, from.address);
      const session = running!.sessions[0]!;
      const { localAddress, localPort } = running!.sockets[0]!;
      const accounted = (): number => session.counters.received + session.counters.duplicates + session.counters.ignored + kernelDrops(localAddress, localPort);
      const deadline = Date.now() + 5000;
      while (accounted() < BURST && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 100)); // nothing more may arrive
      const drops = kernelDrops(localAddress, localPort);
      t.equal(session.counters.received, 1);
      t.equal(session.counters.ignored, 0);
      t.equal(session.counters.received + session.counters.duplicates + drops, BURST, `client counted ${session.counters.received + session.counters.duplicates}, kernel dropped ${drops}`);
      if (recvBufferBytes === undefined) t.equal(drops, 0, 'with the default buffer the kernel keeps them all');
      else t.ok(drops > 0, `the minimum buffer overflows (${drops} dropped)`);
      controller.abort();
      const result = await done;
      t.equal(result.report.clientSocketDrops, drops, 'the report says how many the kernel dropped on our socket');
      t.equal(result.report.totals.duplicates, BURST - 1 - drops);
      t.equal(result.report.totals.received, 1);
    },
  );
}
