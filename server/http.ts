// The HTTP side port: /healthz for the readiness probe, /metrics for Prometheus.
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import { formatEndpoint } from '../common/ip-address.js';
import { BindError } from './udp-server.js';

export interface HttpSidePort {
  address: string;
  port: number;
  close(): Promise<void>;
}

export interface HttpSidePortOptions {
  host: string;
  port: number;
  registry: Registry;
  /** False once the server is shutting down, so the readiness probe takes the pod out first. */
  healthy: () => boolean;
}

export async function startHttpSidePort(options: HttpSidePortOptions): Promise<HttpSidePort> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/healthz') {
      const ok = options.healthy();
      response.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain; charset=utf-8' }).end(ok ? 'ok\n' : 'shutting down\n');
      return;
    }
    if (path === '/metrics') {
      options.registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': options.registry.contentType }).end(text),
        (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(error)}\n`),
      );
      return;
    }
    response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: try /healthz or /metrics\n');
  });
  // A probe that hangs must not keep the process alive at shutdown.
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      const what = error.code === 'EADDRINUSE' ? 'is already in use' : `cannot be bound (${error.code ?? error.message})`;
      reject(new BindError(`HTTP ${formatEndpoint(options.host, options.port)} ${what}`, error.code));
    };
    server.once('error', onError);
    server.listen({ host: options.host, port: options.port, ipv6Only: false }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const bound = server.address();
  const port = typeof bound === 'object' && bound !== null ? bound.port : options.port;
  const address = typeof bound === 'object' && bound !== null ? bound.address : options.host;
  return {
    address,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
