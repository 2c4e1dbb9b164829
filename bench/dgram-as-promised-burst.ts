// Why the server and client read datagrams from node:dgram 'message' events and not from a
// promise-per-datagram API (`npm run bench:dgram-burst`). A burst of N datagrams goes to two
// receivers on loopback, each datagram to both: one counts 'message' events (the reference),
// the other loops on dgram-as-promised's `await socket.recv()`. The kernel queues the burst for
// both alike; what differs is what Node does with it. libuv reads the queued datagrams in one go
// and emits 'message' for each, while recv() has a listener attached only from its call to its
// first datagram: whatever is emitted while the loop is away from recv() is emitted to nobody.
//
// Three loops are measured. "bare" only counts. "answering" awaits the send of a reply before
// its next recv(), the natural shape of a request/response server on this API (the reference
// sends the same replies without waiting). Both stay within one turn of the event loop: Node
// runs process.nextTick callbacks and microtasks after each 'message' callback, and a send to an
// IP literal completes through those, so the loop is back in recv() before the next datagram.
// "yielding" awaits one turn of the event loop (setImmediate) between recv() calls, as any real
// I/O does (a log line to a file, a metrics push, a lookup): what arrives meanwhile is lost.
//
// Flags: --burst 10,100,1000,5000 (sizes), --rounds 5, --size 100 (bytes a datagram).
// Not a test: figures depend on the machine; the ratio is what matters.
import { createSocket, type Socket } from 'node:dgram';
import { parseArgs } from 'node:util';
import DgramAsPromised from 'dgram-as-promised';

const HOST = '127.0.0.1';
/** Enough for the largest burst, so the kernel drops nothing (Linux caps it at rmem_max). */
const BUFFER_BYTES = 4 * 1024 * 1024;
/** A receiver that saw nothing new for this long has seen all it will see of a burst. */
const QUIET_MS = 100;

type Loop = 'bare' | 'answering' | 'yielding';

const { values } = parseArgs({
  options: {
    burst: { type: 'string', default: '10,100,1000,5000' },
    rounds: { type: 'string', default: '5' },
    size: { type: 'string', default: '100' },
  },
});
const bursts = values.burst.split(',').map(Number);
const rounds = Number(values.rounds);
const size = Number(values.size);

function bound(socket: Socket): Promise<number> {
  return new Promise((resolve) => socket.bind(0, HOST, () => resolve(socket.address().port)));
}

function send(socket: Socket, datagram: Buffer, port: number): Promise<void> {
  return new Promise((resolve, reject) => socket.send(datagram, port, HOST, (error) => (error ? reject(error) : resolve())));
}

/** Resolves once `count()` has not moved for QUIET_MS. */
async function settled(count: () => number): Promise<void> {
  let last = -1;
  while (count() !== last) {
    last = count();
    await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
  }
}

/** Runs every burst size against a fresh pair of receivers; returns [burst, reference, recv()] rows. */
async function measure(loop: Loop): Promise<[number, number, number][]> {
  const reply = Buffer.alloc(size, 0xa5);
  const reference = createSocket('udp4');
  let referenceCount = 0;
  reference.on('message', (_datagram, from) => {
    referenceCount++;
    if (loop === 'answering') reference.send(reply, from.port, from.address);
  });
  const referencePort = await bound(reference);
  reference.setRecvBufferSize(BUFFER_BYTES);
  reference.setSendBufferSize(BUFFER_BYTES);

  const promised = DgramAsPromised.createSocket('udp4');
  const promisedPort = (await promised.bind(0, HOST)).port;
  promised.socket.setRecvBufferSize(BUFFER_BYTES);
  promised.socket.setSendBufferSize(BUFFER_BYTES);
  let promisedCount = 0;
  const reading = (async () => {
    for (;;) {
      const packet = await promised.recv();
      if (packet === undefined) return;
      promisedCount++;
      if (loop === 'answering') await promised.send(reply, packet.rinfo.port, packet.rinfo.address);
      if (loop === 'yielding') await new Promise((resolve) => setImmediate(resolve));
    }
  })();

  const sender = createSocket('udp4');
  await bound(sender);
  sender.setSendBufferSize(BUFFER_BYTES);
  sender.setRecvBufferSize(BUFFER_BYTES);
  const datagram = Buffer.alloc(size, 0x5a);

  const rows: [number, number, number][] = [];
  for (const burst of bursts) {
    let referenceTotal = 0;
    let promisedTotal = 0;
    for (let round = 0; round < rounds; round++) {
      const referenceBefore = referenceCount;
      const promisedBefore = promisedCount;
      const sends: Promise<void>[] = [];
      for (let i = 0; i < burst; i++) sends.push(send(sender, datagram, referencePort), send(sender, datagram, promisedPort));
      await Promise.all(sends);
      await settled(() => referenceCount + promisedCount);
      referenceTotal += referenceCount - referenceBefore;
      promisedTotal += promisedCount - promisedBefore;
    }
    rows.push([burst, referenceTotal, promisedTotal]);
  }
  sender.close();
  reference.close();
  await promised.close();
  await reading;
  return rows;
}

process.stdout.write(`Node ${process.version}, datagram ${size} bytes, ${rounds} bursts a size, receive buffers ${BUFFER_BYTES} bytes asked\n`);
process.stdout.write(`${'loop'.padEnd(10)}${'burst'.padStart(6)}${"'message' got".padStart(16)}${'recv() got'.padStart(14)}${'recv() / message'.padStart(18)}\n`);
for (const loop of ['bare', 'answering', 'yielding'] as const) {
  for (const [burst, referenceTotal, promisedTotal] of await measure(loop)) {
    const ratio = referenceTotal === 0 ? 0 : promisedTotal / referenceTotal;
    process.stdout.write(
      `${loop.padEnd(10)}${String(burst).padStart(6)}${String(referenceTotal).padStart(16)}${String(promisedTotal).padStart(14)}${`${(100 * ratio).toFixed(1)}%`.padStart(18)}\n`,
    );
  }
}
