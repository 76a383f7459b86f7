import { pushTestImage } from '../tools/images.ts';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  cosignTag,
  createRegistryClient,
  digestOf,
  discoverSignatures,
  parseImageReference,
  type ClosableRegistryClient,
} from '../../src/oci/index.ts';
import { buildProgram, runCli, type CliIo } from '../../src/cli/program.ts';
import { loadConnaisseurImages } from '../tools/connaisseur-images.ts';
import { startReferrersRegistry } from '../tools/referrers-registry.ts';
import { startRegistry, type RunningRegistry } from '../tools/registry.ts';
import { run } from '../tools/service.ts';
import { devToken, startSigil, type RunningSigil } from '../tools/sigil-process.ts';
import { toolPath } from '../tools/tools.ts';
import { vectorPath } from '../tools/vectors.ts';

const sigilCli = fileURLToPath(new URL('../../src/cli/sigil.ts', import.meta.url));
/** Where `--import tsx` resolves. */
const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url));
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
const PREDICATE_TYPE = 'https://example.com/image-signing/v1';

/**
 * Image signatures and attestations in real registries (Debian's distribution 2.8, which has no
 * referrers API, and a registry that serves it), made and checked both ways between Sigil and cosign
 * v3 against one `sigil up`: legacy `.sig`/`.att` tags and Sigstore bundles as OCI 1.1 referrers,
 * keyless and with keys; refusals each with the reason; connaisseur's cosign images verified by key.
 */
// Every case pushes its own images, so suites and cases run concurrently (each sigil run is a process).
describe(
  'image signing with sigil and cosign against sigil up and real registries',
  { concurrency: true },
  () => {
    let sigil: RunningSigil;
    let debian: RunningRegistry;
    let referrers: RunningRegistry;
    let client: ClosableRegistryClient;
    let dir: string;
    let imageCount = 0;
    const email = 'images@example.com';

    before(async () => {
      [sigil, debian, referrers] = await Promise.all([
        startSigil(),
        startRegistry(),
        startReferrersRegistry(),
      ]);
      client = createRegistryClient();
      dir = await mkdtemp(join(tmpdir(), 'sigil-images-'));
      await writeFile(join(dir, 'token'), await devToken(sigil, 'images', email));
      await writeFile(join(dir, 'other-token'), await devToken(sigil, 'other', 'other@example.com'));
      await writeFile(join(dir, 'predicate.json'), JSON.stringify({ builder: 'image-signing e2e' }));
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      await writeFile(join(dir, 'sigil.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
      await writeFile(join(dir, 'sigil.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
      await cosign(['generate-key-pair']);
    });

    after(async () => {
      await client?.close();
      await Promise.all([sigil?.cleanup(), debian?.stop(), referrers?.stop()]);
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    /** Pushes a one-layer image (distinct per call unless `seed` repeats) and returns `host/repo@digest`. */
    async function pushImage(registry: RunningRegistry, repository = 'app', seed = `${++imageCount}`) {
      const digest = await pushTestImage(client, registry.host, repository, `image-${seed}`, seed);
      return `${registry.host}/${repository}@${digest}`;
    }

    /**
     * `sigil ARGS` in this process, as src/cli/sigil.ts runs it (runCli's return is its exit code): each
     * process start costs ~2.5 s of CPU, which 40 runs cannot afford. `sigilProcess` is the real binary.
     */
    async function sigilRun(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
      let stdout = '';
      let stderr = '';
      const io: CliIo = {
        env,
        stdout: (text) => (stdout += text),
        stderr: (text) => (stderr += text),
        untilStopped: () => new Promise(() => {}),
      };
      const code = await runCli(buildProgram(io), args, io);
      if (code !== 0) throw new Error(`sigil ${args.join(' ')} exited ${code}:\n${stderr}${stdout}`);
      return stdout;
    }
    const sigilProcess = (args: string[]) =>
      run(process.execPath, ['--import', 'tsx', sigilCli, ...args], { cwd: repositoryRoot });
    function cosign(args: string[]) {
      return run(toolPath('cosign'), args, { cwd: dir, env: { ...process.env, COSIGN_PASSWORD: 'e2e' } });
    }
    const keyless = () => [
      '--trust-config',
      sigil.summary.ca.trustConfigFile,
      '--identity-token',
      join(dir, 'token'),
    ];
    const identity = (subject = email) => [
      '--trust-config',
      sigil.summary.ca.trustConfigFile,
      '--certificate-identity',
      subject,
      '--certificate-oidc-issuer',
      sigil.summary.ca.oidcIssuer,
    ];
    const cosignKeyless = () => [
      '--yes',
      '--fulcio-url',
      sigil.summary.ca.url,
      '--rekor-url',
      sigil.url,
      '--use-signing-config=false',
      '--identity-token',
      join(dir, 'token'),
      '--allow-http-registry',
    ];
    const cosignIdentity = () => [
      '--trusted-root',
      sigil.summary.ca.trustedRootFile,
      '--certificate-identity',
      email,
      '--certificate-oidc-issuer',
      sigil.summary.ca.oidcIssuer,
      '--allow-http-registry',
    ];
    /** `sigil verify …` must exit 1 with `reason` in its message. */
    const refuses = (args: string[], reason: RegExp, sigilCommand = sigilRun) =>
      assert.rejects(sigilCommand(args), (error: Error) => {
        assert.match(error.message, / exited 1:/);
        assert.match(error.message, reason);
        return true;
      });

    describe('keyless, legacy .sig tags', { concurrency: true }, () => {
      it('cosign verify accepts what sigil sign wrote, and so does sigil verify (the sigil process)', async () => {
        const image = await pushImage(debian);
        await sigilProcess(['sign', image, ...keyless()]);
        const out = await cosign(['verify', ...cosignIdentity(), image]);
        assert.match(out, /"type":"cosign container image signature"/);
        assert.match(
          await sigilProcess(['verify', image, ...identity()]),
          /✓ cosign-signature by images@example\.com/,
        );
      });

      it('sigil verify accepts what cosign sign --new-bundle-format=false wrote', async () => {
        const image = await pushImage(debian);
        await cosign(['sign', ...cosignKeyless(), '--new-bundle-format=false', image]);
        assert.match(
          await sigilRun(['verify', image, ...identity()]),
          /✓ cosign-signature by images@example\.com/,
        );
      });
    });

    describe('keyless, Sigstore bundles as referrers', { concurrency: true }, () => {
      for (const registryName of ['the referrers registry', "Debian's registry (referrers tag schema)"]) {
        const registry = () => (registryName.startsWith('Debian') ? debian : referrers);

        it(`cosign verify accepts what sigil sign --bundle wrote, on ${registryName}`, async () => {
          const image = await pushImage(registry());
          await sigilRun(['sign', image, '--bundle', ...keyless()]);
          assert.match(
            await cosign(['verify', ...cosignIdentity(), image]),
            /"type":"https:\/\/sigstore\.dev\/cosign\/sign\/v1"/,
          );
          assert.match(
            await sigilRun(['verify', image, ...identity()]),
            /✓ sigstore-bundle by images@example\.com/,
          );
        });

        it(`sigil verify accepts what cosign sign (new bundle format) wrote, on ${registryName}`, async () => {
          const image = await pushImage(registry());
          await cosign(['sign', ...cosignKeyless(), '--new-bundle-format=true', image]);
          assert.match(
            await sigilRun(['verify', image, ...identity()]),
            /✓ sigstore-bundle by images@example\.com/,
          );
        });
      }
    });

    describe('with keys', { concurrency: true }, () => {
      for (const format of ['legacy', 'bundle'] as const) {
        it(`cosign verify --key accepts a ${format} signature sigil sign --key made`, async () => {
          const image = await pushImage(debian);
          await sigilRun([
            'sign',
            image,
            ...(format === 'bundle' ? ['--bundle'] : []),
            '--trust-config',
            sigil.summary.ca.trustConfigFile,
            '--key',
            join(dir, 'sigil.key'),
          ]);
          await cosign([
            'verify',
            '--trusted-root',
            sigil.summary.ca.trustedRootFile,
            '--key',
            join(dir, 'sigil.pub'),
            '--allow-http-registry',
            image,
          ]);
          assert.match(
            await sigilRun([
              'verify',
              image,
              '--trust-config',
              sigil.summary.ca.trustConfigFile,
              '--key',
              join(dir, 'sigil.pub'),
            ]),
            /by public key/,
          );
        });

        it(`sigil verify --key accepts a ${format} signature cosign sign --key made, and refuses another key`, async () => {
          const image = await pushImage(debian);
          await cosign([
            'sign',
            '--yes',
            '--key',
            'cosign.key',
            '--rekor-url',
            sigil.url,
            '--use-signing-config=false',
            `--new-bundle-format=${format === 'bundle'}`,
            '--allow-http-registry',
            image,
          ]);
          const withKey = (key: string) => [
            'verify',
            image,
            '--trust-config',
            sigil.summary.ca.trustConfigFile,
            '--key',
            join(dir, key),
          ];
          assert.match(await sigilRun(withKey('cosign.pub')), /by public key/);
          await refuses(withKey('sigil.pub'), /VERIFY_SIGNATURE_ERROR/);
        });
      }
    });

    describe('attestations', { concurrency: true }, () => {
      for (const format of ['legacy', 'bundle'] as const) {
        const formatFlags = format === 'bundle' ? ['--bundle'] : [];
        it(`cosign verify-attestation accepts a ${format} attestation sigil attest made`, async () => {
          const image = await pushImage(debian);
          await sigilRun([
            'attest',
            image,
            ...formatFlags,
            '--predicate',
            join(dir, 'predicate.json'),
            '--type',
            PREDICATE_TYPE,
            ...keyless(),
          ]);
          const out = await cosign([
            'verify-attestation',
            '--type',
            PREDICATE_TYPE,
            ...cosignIdentity(),
            image,
          ]);
          assert.match(out, /"payloadType":"application\/vnd\.in-toto\+json"/);
          assert.match(
            await sigilRun(['verify-attestation', image, '--type', PREDICATE_TYPE, ...identity()]),
            new RegExp(
              `✓ ${format === 'bundle' ? 'sigstore-bundle' : 'cosign-attestation'} by images@example\\.com`,
            ),
          );
        });

        it(`sigil verify-attestation accepts a ${format} attestation cosign attest made, for its type only`, async () => {
          const image = await pushImage(referrers);
          await cosign([
            'attest',
            ...cosignKeyless(),
            `--new-bundle-format=${format === 'bundle'}`,
            '--predicate',
            'predicate.json',
            '--type',
            PREDICATE_TYPE,
            image,
          ]);
          assert.match(
            await sigilRun(['verify-attestation', image, '--type', PREDICATE_TYPE, ...identity()]),
            /✓ .* by images@example\.com/,
          );
          await refuses(
            ['verify-attestation', image, '--type', 'slsaprovenance1', ...identity()],
            /no attestations found/,
          );
        });
      }
    });

    describe('refusals, each with its reason', { concurrency: true }, () => {
      let signed: string;
      let bundled: string;

      before(async () => {
        [signed, bundled] = await Promise.all([pushImage(debian, 'refusals'), pushImage(debian, 'refusals')]);
        await Promise.all([
          sigilRun(['sign', signed, ...keyless()]),
          sigilRun(['sign', bundled, '--bundle', ...keyless()]),
        ]);
      });

      it('an unsigned image: no signatures found (the sigil process exits 1)', async () => {
        await refuses(
          ['verify', await pushImage(debian, 'refusals'), ...identity()],
          /no signatures found/,
          sigilProcess,
        );
      });

      it('a signature copied onto another digest: VERIFY_ARTIFACT_MISMATCH', async () => {
        const other = parseImageReference(await pushImage(debian, 'refusals'));
        const source = parseImageReference(signed);
        const sig = await client.findManifest(source, cosignTag(source.digest!, 'sig'));
        assert.ok(sig);
        await client.pushManifest(other, sig.bytes, sig.mediaType, cosignTag(other.digest!, 'sig'));
        await refuses(
          ['verify', other.canonical, ...identity()],
          /VERIFY_ARTIFACT_MISMATCH: payload critical\.image\.docker-manifest-digest/,
        );
      });

      it('another identity: VERIFY_IDENTITY_MISMATCH', async () => {
        await refuses(['verify', signed, ...identity('other@example.com')], /VERIFY_IDENTITY_MISMATCH/);
        await refuses(['verify', bundled, ...identity('other@example.com')], /VERIFY_IDENTITY_MISMATCH/);
      });

      it('a tampered payload (the .sig layer blob rewritten): VERIFY_SIGNATURE_ERROR', async () => {
        const image = parseImageReference(await pushImage(debian, 'refusals'));
        await sigilRun(['sign', image.canonical, ...keyless()]);
        const tag = cosignTag(image.digest!, 'sig');
        const sig = await client.findManifest(image, tag);
        assert.ok(sig?.manifest.kind === 'manifest');
        const layer = sig.manifest.layers[0]!;
        const payload = JSON.parse(Buffer.from(await client.getBlob(image, layer)).toString('utf8')) as {
          optional: unknown;
        };
        payload.optional = { tampered: 'yes' };
        const tampered = await client.pushBlob(image, Buffer.from(JSON.stringify(payload)), layer.mediaType);
        const manifest = JSON.parse(Buffer.from(sig.bytes).toString('utf8')) as { layers: unknown[] };
        manifest.layers = [{ ...tampered, annotations: layer.annotations }];
        await client.pushManifest(image, Buffer.from(JSON.stringify(manifest)), OCI_MANIFEST, tag);
        await refuses(
          ['verify', image.canonical, ...identity()],
          /VERIFY_SIGNATURE_ERROR: messageSignature\.signature: does not verify/,
        );
      });

      it('a referrer bundle with a bad signature: VERIFY_SIGNATURE_ERROR', async () => {
        // The same image in another repository, whose only referrer is the signed bundle with one byte changed.
        const source = parseImageReference(bundled);
        const [found] = (await discoverSignatures(client, source)).bundles;
        assert.ok(found);
        const bundle = JSON.parse(Buffer.from(found.bundle).toString('utf8')) as {
          dsseEnvelope: { signatures: { sig: string }[] };
        };
        const sig = Buffer.from(bundle.dsseEnvelope.signatures[0]!.sig, 'base64');
        sig[sig.length - 5]! ^= 1;
        bundle.dsseEnvelope.signatures[0]!.sig = sig.toString('base64');
        const image = parseImageReference(`${debian.host}/tampered-bundle@${source.digest}`);
        const original = await client.getManifest(source);
        for (const blob of [
          ...(original.manifest.kind === 'manifest'
            ? [original.manifest.config, ...original.manifest.layers]
            : []),
        ]) {
          await client.pushBlob(image, await client.getBlob(source, blob), blob.mediaType);
        }
        await client.pushManifest(image, original.bytes, original.mediaType, source.digest!);
        const bytes = Buffer.from(JSON.stringify(bundle));
        const layer = await client.pushBlob(image, bytes, BUNDLE_MEDIA_TYPE);
        const config = await client.pushBlob(image, Buffer.from('{}'), 'application/vnd.oci.empty.v1+json');
        const manifest = Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: OCI_MANIFEST,
            artifactType: BUNDLE_MEDIA_TYPE,
            config,
            layers: [layer],
            subject: {
              mediaType: original.mediaType,
              digest: original.digest,
              size: original.bytes.byteLength,
            },
            annotations: {
              'dev.sigstore.bundle.content': 'dsse-envelope',
              'dev.sigstore.bundle.predicateType': 'https://sigstore.dev/cosign/sign/v1',
            },
          }),
        );
        await client.pushManifest(image, manifest, OCI_MANIFEST, digestOf(manifest));
        await refuses(
          ['verify', image.canonical, ...identity()],
          /VERIFY_SIGNATURE_ERROR: dsseEnvelope\.signatures: none of 1 verifies/,
        );
      });
    });

    describe('multi-arch images and a separate signature repository', { concurrency: true }, () => {
      it('sigil verify reports which platform manifests of a signed index are signed', async () => {
        const platform = async (architecture: string) => {
          const image = parseImageReference(await pushImage(debian, 'multi'));
          const fetched = await client.getManifest(image);
          return {
            mediaType: OCI_MANIFEST,
            digest: fetched.digest,
            size: fetched.bytes.byteLength,
            platform: { architecture, os: 'linux' },
          };
        };
        const [amd64, arm64] = [await platform('amd64'), await platform('arm64')];
        const index = Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: 'application/vnd.oci.image.index.v1+json',
            manifests: [amd64, arm64],
          }),
        );
        const reference = parseImageReference(`${debian.host}/multi:index`);
        const digest = await client.pushManifest(
          reference,
          index,
          'application/vnd.oci.image.index.v1+json',
          'index',
        );
        await sigilRun(['sign', `${debian.host}/multi@${digest}`, ...keyless()]);
        await sigilRun(['sign', `${debian.host}/multi@${amd64.digest}`, ...keyless()]);
        const out = await sigilRun(['verify', `${debian.host}/multi@${digest}`, ...identity()]);
        assert.match(out, /✓ cosign-signature by images@example\.com/);
        assert.match(out, new RegExp(`platform linux/amd64 ${amd64.digest}: signed`));
        assert.match(out, new RegExp(`platform linux/arm64 ${arm64.digest}: not signed`));
      });

      it('COSIGN_REPOSITORY puts the .sig tag elsewhere for sigil and cosign alike', async () => {
        const image = await pushImage(debian, 'kept-apart');
        const env = { ...process.env, COSIGN_REPOSITORY: `${debian.host}/signatures` };
        await sigilRun(['sign', image, ...keyless()], env);
        assert.equal(
          await client.findManifest(
            parseImageReference(image),
            `${image.split('@')[1]!.replace(':', '-')}.sig`,
          ),
          undefined,
        );
        assert.match(await sigilRun(['verify', image, ...identity()], env), /✓ cosign-signature/);
        await refuses(['verify', image, ...identity()], /no signature verified/);
        await run(toolPath('cosign'), ['verify', ...cosignIdentity(), image], { cwd: dir, env });
      });
    });

    describe("connaisseur's cosign images", () => {
      let images: Record<string, string>;
      const keyFile = (name: string) => vectorPath(`connaisseur/cosign/${name}.key`);

      before(async () => {
        ({ images } = await loadConnaisseurImages(debian.url, {
          storageDirectory: debian.storageDirectory!,
        }));
      });

      it("sigil verify --key accepts alice's signature of multi-cosigned-alice and refuses charlie's key", async () => {
        const image = `${debian.host}/securesystemsengineering/testimage@${images['multi-cosigned-alice']}`;
        const withKey = (name: string) => [
          'verify',
          image,
          '--trust-config',
          sigil.summary.ca.trustConfigFile,
          '--insecure-ignore-tlog',
          '--key',
          keyFile(name),
        ];
        assert.match(await sigilRun(withKey('alice')), /✓ cosign-signature by public key/);
        await refuses(withKey('charlie'), /VERIFY_SIGNATURE_ERROR/);
      });
    });
  },
);
