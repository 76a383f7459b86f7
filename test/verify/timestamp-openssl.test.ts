// Timestamps from a second, independent RFC 3161 implementation (`openssl ts`), for what the
// conformance tokens (one ECDSA P-384 TSA, its leaf directly under its root) do not reach: an RSA TSA,
// a TSA certificate under an intermediate, an embedded certificate that is not the trusted leaf, and
// SHA-512 message imprints.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodePem, parseCertificate, type ParsedCertificate } from '../../src/core/index.ts';
import { VerificationError } from '../../src/verify/errors.ts';
import { verifyRfc3161Timestamp } from '../../src/verify/timestamp.ts';
import type { CertificateAuthority } from '../../src/verify/trust.types.ts';
import { toolPath } from '../tools/tools.ts';

const TS_CONFIG = `[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
serial = ./serial
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
ess_cert_id_alg = sha256
ordering = no
tsa_name = no
ess_cert_id_chain = no
`;

const signature = new TextEncoder().encode('the bytes a bundle signed');

describe('verifyRfc3161Timestamp with openssl ts tokens', () => {
  let dir: string;
  const openssl = (...args: string[]) => execFileSync(toolPath('openssl'), args, { cwd: dir, stdio: 'pipe' });
  const certificate = (name: string): ParsedCertificate =>
    parseCertificate(decodePem(readFileSync(join(dir, `${name}.pem`), 'utf8'))[0]!.der, name);
  const authority = (...chain: string[]): CertificateAuthority => ({
    uri: `https://${chain[0]}.test`,
    subject: {},
    chain: chain.map(certificate),
    validFor: { start: -Infinity, end: Infinity },
  });
  /** A TimeStampResp from the `tsa` certificate over `signature`, asking for its certificate or not. */
  const stamp = (options: { digest?: string; embedCertificate?: boolean } = {}): Uint8Array => {
    openssl(
      'ts',
      '-query',
      '-data',
      'payload',
      `-${options.digest ?? 'sha256'}`,
      ...(options.embedCertificate === false ? [] : ['-cert']),
      '-out',
      'request.tsq',
    );
    openssl(
      'ts',
      '-reply',
      '-queryfile',
      'request.tsq',
      '-inkey',
      'tsa.key',
      '-signer',
      'tsa.pem',
      '-chain',
      'intermediate.pem',
      '-config',
      'ts.cnf',
      '-out',
      'response.tsr',
    );
    return new Uint8Array(readFileSync(join(dir, 'response.tsr')));
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sigil-tsa-'));
    writeFileSync(join(dir, 'ts.cnf'), TS_CONFIG);
    writeFileSync(join(dir, 'serial'), '01\n');
    writeFileSync(join(dir, 'payload'), signature);
    writeFileSync(
      join(dir, 'ca.ext'),
      'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign\n',
    );
    writeFileSync(
      join(dir, 'tsa.ext'),
      'keyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\n',
    );
    openssl(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      'root.key',
      '-out',
      'root.pem',
      '-subj',
      '/O=sigil test/CN=tsa root',
      '-days',
      '2',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign',
    );
    const issue = (name: string, issuer: string, extensions: string, key: string[]) => {
      openssl(
        'req',
        '-newkey',
        ...key,
        '-nodes',
        '-keyout',
        `${name}.key`,
        '-out',
        `${name}.csr`,
        '-subj',
        `/O=sigil test/CN=${name}`,
      );
      openssl(
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        `${issuer}.pem`,
        '-CAkey',
        `${issuer}.key`,
        '-CAcreateserial',
        '-days',
        '1',
        '-extfile',
        extensions,
        '-out',
        `${name}.pem`,
      );
    };
    issue('intermediate', 'root', 'ca.ext', ['ec', '-pkeyopt', 'ec_paramgen_curve:P-256']);
    issue('tsa', 'intermediate', 'tsa.ext', ['rsa:2048']);
    issue('other-tsa', 'intermediate', 'tsa.ext', ['ec', '-pkeyopt', 'ec_paramgen_curve:P-256']);
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('verifies an RSA TSA whose leaf sits under an intermediate', () => {
    const before = Date.now();
    const trusted = authority('tsa', 'intermediate', 'root');
    const verified = verifyRfc3161Timestamp(stamp(), signature, [trusted]);
    assert.equal(verified.authority, trusted);
    assert.ok(Math.abs(verified.time - before) < 60_000, `genTime ${verified.time} is not about now`);
  });

  it('verifies SHA-384 and SHA-512 message imprints', () => {
    for (const digest of ['sha384', 'sha512']) {
      assert.doesNotThrow(() =>
        verifyRfc3161Timestamp(stamp({ digest }), signature, [authority('tsa', 'intermediate', 'root')]),
      );
    }
  });

  it('verifies an embedded TSA certificate that the trusted chain issued, though the trusted leaf is another', () => {
    const trusted = authority('other-tsa', 'intermediate', 'root');
    assert.equal(verifyRfc3161Timestamp(stamp(), signature, [trusted]).authority, trusted);
  });

  it('rejects a token without certificates whose signer is not the trusted leaf', () => {
    assert.throws(
      () =>
        verifyRfc3161Timestamp(stamp({ embedCertificate: false }), signature, [
          authority('other-tsa', 'intermediate', 'root'),
        ]),
      (error: unknown) =>
        error instanceof VerificationError &&
        error.code === 'VERIFY_TIMESTAMP_ERROR' &&
        /does not name its leaf/.test(error.message),
    );
  });

  it('rejects an embedded certificate that the trusted chain did not issue', () => {
    // The TSA's chain here is the root alone: the intermediate the token embeds is not trusted.
    assert.throws(
      () => verifyRfc3161Timestamp(stamp(), signature, [authority('root')]),
      (error: unknown) =>
        error instanceof VerificationError &&
        error.code === 'VERIFY_TIMESTAMP_ERROR' &&
        /nor issued by its chain/.test(error.message),
    );
  });

  it('rejects a token when the timestamped bytes differ', () => {
    assert.throws(
      () =>
        verifyRfc3161Timestamp(stamp(), new TextEncoder().encode('other bytes'), [
          authority('tsa', 'intermediate', 'root'),
        ]),
      (error: unknown) => error instanceof VerificationError && /payload mismatch/.test(error.message),
    );
  });
});
