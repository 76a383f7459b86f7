import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './service.ts';
import { toolPath } from './tools.ts';

export interface TestCertificate {
  /** PEM of the signing certificate (leaf). */
  leafPem: string;
  /** PEM of the CA that issued it. */
  caPem: string;
  /** The leaf's private key. */
  privateKey: KeyObject;
}

/**
 * A throwaway CA and a code-signing leaf it issued, made with the openssl command line (a real X.509
 * implementation, not ours), for tests of clients that only send certificates.
 */
export async function issueTestCertificate(email = 'dev@sigil.test'): Promise<TestCertificate> {
  const dir = await mkdtemp(join(tmpdir(), 'sigil-ca-'));
  try {
    const openssl = toolPath('openssl');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await writeFile(join(dir, 'leaf.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await run(
      openssl,
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        'ca.key',
        '-out',
        'ca.pem',
        '-subj',
        '/O=sigil test/CN=sigil-test-ca',
        '-days',
        '2',
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign',
      ],
      { cwd: dir },
    );
    await run(openssl, ['req', '-new', '-key', 'leaf.key', '-subj', '/', '-out', 'leaf.csr'], { cwd: dir });
    await writeFile(
      join(dir, 'leaf.ext'),
      `keyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\nsubjectAltName=critical,email:${email}\n`,
    );
    await run(
      openssl,
      [
        'x509',
        '-req',
        '-in',
        'leaf.csr',
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-days',
        '1',
        '-extfile',
        'leaf.ext',
        '-out',
        'leaf.pem',
      ],
      { cwd: dir },
    );
    return {
      leafPem: await readFile(join(dir, 'leaf.pem'), 'utf8'),
      caPem: await readFile(join(dir, 'ca.pem'), 'utf8'),
      privateKey,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
