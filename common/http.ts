// The HTTP side port: /healthz for the readiness probe, /metrics for Prometheus.
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import { listen } from './listen.js';

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

  const { address, port } = await listen(server, 'HTTP', options.host, options.port);
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
