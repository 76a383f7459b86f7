import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RequestListener } from 'node:http';
import { ServerError } from './errors.ts';

export interface ListenOptions {
  /** Interface to bind. Default `127.0.0.1`. */
  host?: string;
  /** TCP port; 0 picks a free one. Default 0. */
  port?: number;
  /** Longest time to receive a whole request, in milliseconds. Default 60 000, as Fulcio uses. */
  requestTimeoutMs?: number;
}

export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:7070`. */
  url: string;
  host: string;
  port: number;
  /** Stops accepting connections, lets in-flight requests finish, then closes idle keep-alive sockets. */
  close(): Promise<void>;
}

export async function listen(app: RequestListener, options: ListenOptions = {}): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const server: Server = createServer(app);
  server.requestTimeout = options.requestTimeoutMs ?? 60_000;
  server.headersTimeout = Math.min(server.requestTimeout, 30_000);
  server.keepAliveTimeout = 5_000;
  server.listen(options.port ?? 0, host);
  try {
    await Promise.race([
      once(server, 'listening'),
      once(server, 'error').then(([error]) => Promise.reject(error as Error)),
    ]);
  } catch (cause) {
    const port = options.port ?? 0;
    if ((cause as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new ServerError(
        'SERVER_ADDRESS_IN_USE',
        `port ${port} on ${host} is already in use; stop what holds it or pass another --port`,
        { cause },
      );
    }
    throw new ServerError(
      'SERVER_LISTEN_FAILED',
      `cannot listen on ${host}:${port}: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${urlHost}:${address.port}`,
    host: address.address,
    port: address.port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      }),
  };
}
