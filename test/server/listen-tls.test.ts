import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { request, type RequestOptions } from 'node:https';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { issueServingCertificate, type ServingCertificate } from '../../src/ca/serving-certificate.ts';
import type { LogFn, Logger } from '../../src/core/index.ts';
import { ServerError, listen, type RunningServer } from '../../src/server/index.ts';

const INTERVAL_MS = 25;
const hello = (_request: unknown, response: { end(body: string): void }) => response.end('hello');

interface LogLine {
  level: string;
  fields: Record<string, unknown>;
  message: string;
}

function recordingLogger(lines: LogLine[]): Logger {
  const at =
    (level: string): LogFn =>
    (fieldsOrMessage: Record<string, unknown> | string, message?: string) => {
      if (typeof fieldsOrMessage === 'string') lines.push({ level, fields: {}, message: fieldsOrMessage });
      else lines.push({ level, fields: fieldsOrMessage, message: message ?? '' });
    };
  const logger: Logger = {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: () => logger,
  };
  return logger;
}

interface Answer {
  status: number;
  body: string;
  headers: Record<string, unknown>;
  /** SHA-256 fingerprint of the certificate the server presented. */
  fingerprint256: string;
}

/** One GET over a fresh connection (no agent, no session reuse), trusting only `ca`. */
function get(server: RunningServer, options: RequestOptions): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const call = request(
      { host: server.host, port: server.port, path: '/', agent: false, ...options },
      (response) => {
        const fingerprint256 = (response.socket as TLSSocket).getPeerCertificate().fingerprint256;
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            headers: response.headers,
            fingerprint256,
          }),
        );
      },
    );
    call.on('error', reject);
    call.end();
  });
}

function fingerprintOf(issued: ServingCertificate): string {
  return new X509Certificate(issued.certificatePem).fingerprint256;
}

async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 3_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('listen with tls', () => {
  let dir: string;
  let certFile: string;
  let keyFile: string;
  let first: ServingCertificate;
  let lines: LogLine[];
  let server: RunningServer | undefined;

  before(async () => {
    first = await issueServingCertificate({ hosts: ['127.0.0.1', 'localhost'] });
  });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sigil-listen-tls-'));
    certFile = join(dir, 'tls.crt');
    keyFile = join(dir, 'tls.key');
    await writeFile(certFile, first.certificatePem);
    await writeFile(keyFile, first.privateKeyPem);
    lines = [];
  });

  afterEach(async () => {
    await server?.close();
    server = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  const start = async () => {
    server = await listen(hello, {
      tls: { certFile, keyFile, reloadIntervalMs: INTERVAL_MS },
      logger: recordingLogger(lines),
    });
    return server;
  };

  describe('serving', () => {
    it('answers over HTTPS at an https:// url to a client that trusts only the issued CA', async () => {
      const running = await start();
      assert.match(running.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      const answer = await get(running, { ca: first.caCertificatePem });
      assert.equal(answer.status, 200);
      assert.equal(answer.body, 'hello');
      assert.equal(answer.fingerprint256, fingerprintOf(first));
    });

    it('is verified for the name localhost as well as for the address 127.0.0.1', async () => {
      const running = await start();
      const answer = await get(running, { ca: first.caCertificatePem, servername: 'localhost' });
      assert.equal(answer.body, 'hello');
    });

    it('is refused by a client that does not trust the CA', async () => {
      const running = await start();
      const other = await issueServingCertificate({ hosts: ['127.0.0.1'] });
      await assert.rejects(get(running, { ca: other.caCertificatePem }), {
        code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      });
    });

    it('is refused for a name the certificate does not list', async () => {
      const running = await start();
      await assert.rejects(get(running, { ca: first.caCertificatePem, servername: 'evil.svc' }), {
        code: 'ERR_TLS_CERT_ALTNAME_INVALID',
      });
    });

    it('keeps connections alive as over HTTP', async () => {
      const running = await start();
      const answer = await get(running, {
        ca: first.caCertificatePem,
        headers: { connection: 'keep-alive' },
      });
      assert.equal(answer.headers['keep-alive'], 'timeout=5');
    });
  });

  describe('when the files are rotated', () => {
    it('serves a certificate from a new CA, written over the old files, to new connections', async () => {
      const running = await start();
      const second = await issueServingCertificate({ hosts: ['127.0.0.1'] });
      await writeFile(keyFile, second.privateKeyPem);
      await writeFile(certFile, second.certificatePem);
      const both = [first.caCertificatePem, second.caCertificatePem];
      await eventually(async () => {
        const answer = await get(running, { ca: both });
        return answer.fingerprint256 === fingerprintOf(second) ? answer : undefined;
      }, 'the new certificate served');
      const reloaded = lines.find((line) => line.message === 'tls certificate reloaded');
      assert.equal(reloaded?.level, 'info');
      assert.equal(reloaded.fields.fingerprint256, fingerprintOf(second));
      // the new CA alone is now enough
      assert.equal((await get(running, { ca: second.caCertificatePem })).body, 'hello');
    });

    it('follows a Kubernetes Secret volume swapping its ..data symlink', async () => {
      // kubelet's AtomicWriter: tls.crt -> ..data/tls.crt, ..data -> ..<timestamp>; an update writes a
      // new ..<timestamp> folder and renames a new symlink over ..data
      const version = async (name: string, issued: ServingCertificate) => {
        await mkdir(join(dir, name));
        await writeFile(join(dir, name, 'tls.crt'), issued.certificatePem);
        await writeFile(join(dir, name, 'tls.key'), issued.privateKeyPem);
        await symlink(name, join(dir, '..data_tmp'));
        await rename(join(dir, '..data_tmp'), join(dir, '..data'));
      };
      await version('..v1', first);
      certFile = join(dir, 'volume.crt');
      keyFile = join(dir, 'volume.key');
      await symlink(join('..data', 'tls.crt'), certFile);
      await symlink(join('..data', 'tls.key'), keyFile);
      const running = await start();
      assert.equal((await get(running, { ca: first.caCertificatePem })).fingerprint256, fingerprintOf(first));

      const second = await issueServingCertificate({ hosts: ['127.0.0.1'] });
      await version('..v2', second);
      await eventually(async () => {
        const answer = await get(running, { ca: [first.caCertificatePem, second.caCertificatePem] });
        return answer.fingerprint256 === fingerprintOf(second) ? answer : undefined;
      }, 'the certificate of the swapped volume served');
    });
  });

  describe('when a change cannot be loaded', () => {
    const warnings = () => lines.filter((line) => line.level === 'warn');

    it('keeps serving the old certificate over a half-written certificate file and warns once', async () => {
      const running = await start();
      await writeFile(certFile, first.certificatePem.slice(0, 200));
      const warning = await eventually(async () => warnings()[0], 'a warning logged');
      assert.equal(warning.message, 'tls certificate reload failed; keeping the previous certificate');
      assert.equal(warning.fields.certFile, certFile);
      assert.ok(warning.fields.err instanceof Error);
      assert.equal((await get(running, { ca: first.caCertificatePem })).fingerprint256, fingerprintOf(first));
      await sleep(INTERVAL_MS * 6);
      assert.equal(warnings().length, 1, 'the same broken content is reported once');
    });

    it('keeps serving the old certificate when the new one does not match the key, then takes the matching key', async () => {
      const running = await start();
      const second = await issueServingCertificate({ hosts: ['127.0.0.1'] });
      await writeFile(certFile, second.certificatePem);
      await eventually(async () => warnings()[0], 'a warning logged');
      assert.equal((await get(running, { ca: first.caCertificatePem })).fingerprint256, fingerprintOf(first));

      await writeFile(keyFile, second.privateKeyPem);
      await eventually(async () => {
        const answer = await get(running, { ca: [first.caCertificatePem, second.caCertificatePem] });
        return answer.fingerprint256 === fingerprintOf(second) ? answer : undefined;
      }, 'the completed pair served');
    });

    it('keeps serving the old certificate while the files are gone', async () => {
      const running = await start();
      await rm(certFile);
      await eventually(async () => warnings()[0], 'a warning logged');
      assert.equal((await get(running, { ca: first.caCertificatePem })).fingerprint256, fingerprintOf(first));
    });
  });

  describe('when it starts without a usable pair', () => {
    const rejectsWith = async (message: RegExp) => {
      await assert.rejects(start(), (error: unknown) => {
        assert.ok(error instanceof ServerError);
        assert.equal(error.code, 'SERVER_TLS_INVALID');
        assert.match(error.message, message);
        return true;
      });
    };

    it('refuses a missing certificate file with SERVER_TLS_INVALID naming it', async () => {
      certFile = join(dir, 'missing.crt');
      await rejectsWith(/^tls\.certFile: cannot read .*missing\.crt: ENOENT/);
    });

    it('refuses a missing key file with SERVER_TLS_INVALID naming it', async () => {
      keyFile = join(dir, 'missing.key');
      await rejectsWith(/^tls\.keyFile: cannot read .*missing\.key: ENOENT/);
    });

    it('refuses a certificate file without a certificate', async () => {
      await writeFile(certFile, 'not a certificate\n');
      await rejectsWith(/^tls\.certFile: expected a PEM certificate in .*tls\.crt/);
    });

    it('refuses a key that is not the certificate’s', async () => {
      const other = await issueServingCertificate({ hosts: ['127.0.0.1'] });
      await writeFile(keyFile, other.privateKeyPem);
      await rejectsWith(/^tls\.keyFile: expected the private key of .*tls\.crt in .*tls\.key/);
    });

    it('refuses a reload interval under 10 ms', async () => {
      await assert.rejects(listen(hello, { tls: { certFile, keyFile, reloadIntervalMs: 0 } }), {
        code: 'SERVER_TLS_INVALID',
      });
    });
  });

  describe('after close', () => {
    it('stops reloading', async () => {
      const running = await start();
      await running.close();
      server = undefined;
      const second = await issueServingCertificate({ hosts: ['127.0.0.1'] });
      await writeFile(certFile, second.certificatePem);
      await writeFile(keyFile, 'broken');
      await sleep(INTERVAL_MS * 6);
      assert.deepEqual(lines, []);
    });
  });
});

describe('listen without tls', () => {
  let server: RunningServer;
  before(async () => {
    server = await listen(hello);
  });
  after(() => server.close());

  it('still serves plain HTTP at an http:// url', async () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const body = await new Promise<string>((resolve, reject) => {
      httpRequest(server.url, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      })
        .on('error', reject)
        .end();
    });
    assert.equal(body, 'hello');
  });
});
