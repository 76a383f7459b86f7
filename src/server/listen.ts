import { createHash, X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { RequestListener } from 'node:http';
import { createSecureContext } from 'node:tls';
import { silentLogger, type Logger } from '../core/index.ts';
import { ServerError } from './errors.ts';

export interface ListenOptions {
  /** Interface to bind. Default `127.0.0.1`. */
  host?: string;
  /** TCP port; 0 picks a free one. Default 0. */
  port?: number;
  /** Longest time to receive a whole request, in milliseconds. Default 60 000, as Fulcio uses. */
  requestTimeoutMs?: number;
  /** Serve HTTPS with the PEM certificate and key in these files, reloaded when they change. Default: HTTP. */
  tls?: ListenTlsOptions;
  /** Where TLS reloads are reported. Default: silent. */
  logger?: Logger;
}

export interface ListenTlsOptions {
  /** PEM certificate, optionally followed by its chain (a Kubernetes TLS Secret's `tls.crt`). */
  certFile: string;
  /** PEM private key of the first certificate (`tls.key`). */
  keyFile: string;
  /** How often both files are read to see whether they changed, in milliseconds. Default 2 000. */
  reloadIntervalMs?: number;
}

export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:7070` (`https://` with `tls`). */
  url: string;
  host: string;
  port: number;
  /** Stops accepting connections, lets in-flight requests finish, then closes idle keep-alive sockets. */
  close(): Promise<void>;
}

/**
 * Serves `app` on host:port, over HTTPS when `options.tls` is given. A missing, unreadable or
 * mismatched certificate/key at start MUST fail with SERVER_TLS_INVALID naming the file; later the
 * files are polled and a change that fails to load MUST keep the previous certificate (logged, never
 * thrown) so a half-written Secret update cannot take the webhook down.
 */
export async function listen(app: RequestListener, options: ListenOptions = {}): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const tls = options.tls ? await startTls(options.tls, options.logger ?? silentLogger) : undefined;
  const server: Server | HttpsServer = tls
    ? createHttpsServer({ cert: tls.initial.cert, key: tls.initial.key }, app)
    : createServer(app);
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
  const stopReloading = tls ? tls.watch(server as HttpsServer) : () => undefined;
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `${tls ? 'https' : 'http'}://${urlHost}:${address.port}`,
    host: address.address,
    port: address.port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        stopReloading();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      }),
  };
}

interface KeyPair {
  cert: Buffer;
  key: Buffer;
  /** SHA-256 over both files' bytes: what the poll compares. */
  digest: string;
}

/** Loads the pair once (strictly) and returns how to keep it current on a running server. */
async function startTls(
  options: ListenTlsOptions,
  log: Logger,
): Promise<{ initial: KeyPair; watch(server: HttpsServer): () => void }> {
  const intervalMs = options.reloadIntervalMs ?? 2_000;
  if (!Number.isFinite(intervalMs) || intervalMs < 10) {
    throw new ServerError(
      'SERVER_TLS_INVALID',
      `tls.reloadIntervalMs: expected at least 10 milliseconds, received ${String(intervalMs)}`,
    );
  }
  const initial = await loadKeyPair(options);
  const files = { certFile: options.certFile, keyFile: options.keyFile };
  return {
    initial,
    watch(server) {
      // Kubernetes updates a Secret volume by swapping the `..data` symlink, which fs.watch on the file
      // does not see reliably; reading both files on a timer sees every change, whatever the writer does.
      let served = initial.digest;
      let failed: string | undefined; // a failed change is reported once, not every interval
      let timer: NodeJS.Timeout | undefined;
      let stopped = false;
      const poll = async (): Promise<void> => {
        const next = await readKeyPair(options).catch((error: unknown) => error as Error);
        if (stopped) return;
        const digest = next instanceof Error ? `unreadable: ${next.message}` : next.digest;
        if (digest === served || digest === failed) {
          if (digest === served) failed = undefined;
          return;
        }
        try {
          if (next instanceof Error) throw next;
          // built first: a Server whose setSecureContext throws has already replaced its own cert/key fields
          createSecureContext({ cert: next.cert, key: next.key }); // throws on bad PEM or a mismatched pair
          server.setSecureContext({ cert: next.cert, key: next.key });
          served = digest;
          failed = undefined;
          log.info({ ...files, ...describe(next.cert) }, 'tls certificate reloaded');
        } catch (error) {
          failed = digest;
          log.warn(
            { ...files, err: error },
            'tls certificate reload failed; keeping the previous certificate',
          );
        }
      };
      const schedule = (): void => {
        timer = setTimeout(() => void poll().finally(() => stopped || schedule()), intervalMs);
        timer.unref();
      };
      schedule();
      return () => {
        stopped = true;
        clearTimeout(timer);
      };
    },
  };
}

async function readKeyPair(options: ListenTlsOptions): Promise<KeyPair> {
  const [cert, key] = await Promise.all([readFile(options.certFile), readFile(options.keyFile)]);
  return keyPair(cert, key);
}

function keyPair(cert: Buffer, key: Buffer): KeyPair {
  return { cert, key, digest: createHash('sha256').update(cert).update('\0').update(key).digest('hex') };
}

/** The first load: any failure is a ServerError naming the file at fault. */
async function loadKeyPair(options: ListenTlsOptions): Promise<KeyPair> {
  const read = (field: 'certFile' | 'keyFile') =>
    readFile(options[field]).catch((cause: unknown) => {
      throw new ServerError(
        'SERVER_TLS_INVALID',
        `tls.${field}: cannot read ${options[field]}: ${(cause as Error).message}`,
        { cause },
      );
    });
  const [cert, key] = await Promise.all([read('certFile'), read('keyFile')]);
  try {
    new X509Certificate(cert);
  } catch (cause) {
    throw new ServerError(
      'SERVER_TLS_INVALID',
      `tls.certFile: expected a PEM certificate in ${options.certFile}: ${(cause as Error).message}`,
      { cause },
    );
  }
  try {
    createSecureContext({ cert, key });
  } catch (cause) {
    throw new ServerError(
      'SERVER_TLS_INVALID',
      `tls.keyFile: expected the private key of ${options.certFile} in ${options.keyFile}: ${(cause as Error).message}`,
      { cause },
    );
  }
  return keyPair(cert, key);
}

function describe(cert: Buffer): Record<string, string> {
  try {
    const parsed = new X509Certificate(cert);
    return { subject: parsed.subject, validTo: parsed.validTo, fingerprint256: parsed.fingerprint256 };
  } catch {
    return {};
  }
}
