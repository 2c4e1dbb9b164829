// A tiny STUN probe of our own, independent of the client under test: N sockets each send a few
// Binding Requests to the target and print, per socket, its local port, who answered and the
// reflective address, as one JSON line. The data-path test uses it to prove the bed forwards,
// NATs and DNATs before any client figure is trusted.
//   node dist/test/e2e/lib/probe.js HOST PORT SOCKETS ROUNDS   (compiled by npm run build:test)
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { isIPv6 } from 'node:net';
import { formatEndpoint } from '../../../common/ip-address.js';
import { decodeBindingResponse, encodeBindingRequest } from '../../../common/stun/codec.js';
import { encodeTransactionId, newRunId, readSequence, readSessionId, sessionIdOf } from '../../../common/stun/transaction-id.js';

export interface ProbeAnswer {
  localPort: number;
  round: number;
  pod?: string;
  mapped?: string;
}

async function probe(host: string, port: number, sockets: number, rounds: number): Promise<ProbeAnswer[]> {
  const runId = newRunId();
  const open: Socket[] = [];
  const answers: ProbeAnswer[] = [];
  for (let i = 0; i < sockets; i++) {
    const socket = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
    socket.bind(0);
    await once(socket, 'listening');
    const localPort = socket.address().port;
    socket.on('message', (datagram) => {
      const result = decodeBindingResponse(datagram);
      if (!result.ok) return;
      const { response } = result;
      if (readSessionId(response.transactionId) !== sessionIdOf(runId, i)) return;
      const mapped = response.mappedAddress ? formatEndpoint(response.mappedAddress.address, response.mappedAddress.port) : undefined;
      answers.push({ localPort, round: readSequence(response.transactionId), pod: response.podName, mapped });
    });
    open.push(socket);
  }
  for (let round = 0; round < rounds; round++) {
    open.forEach((socket, i) => {
      // Padded so that the server may add its pod and counter attributes.
      socket.send(encodeBindingRequest({ transactionId: encodeTransactionId(sessionIdOf(runId, i), round), size: 200 }), port, host);
    });
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  await new Promise((resolve) => setTimeout(resolve, 300));
  for (const socket of open) socket.close();
  return answers;
}

const [host, port, sockets, rounds] = process.argv.slice(2);
if (host !== undefined) {
  const answers = await probe(host, Number(port), Number(sockets ?? 4), Number(rounds ?? 2));
  process.stdout.write(JSON.stringify(answers) + '\n');
}
