import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { PolicyError } from '../../src/policy/errors.ts';
import { compileImageGlob, matchesImage } from '../../src/policy/image-glob.ts';
import { normalizeImageName } from '../../src/policy/image-name.ts';

const DIGEST = 'sha256:5504f2a95018e3d8a52d80d9e1a128c6ea337581808ff9fe96f5628ce2336350';

interface Case {
  image: string;
  glob: string;
  wantMatch: boolean;
  wantError?: 'POLICY_INVALID' | 'POLICY_IMAGE_INVALID';
}

// sigstore/policy-controller pkg/apis/glob/glob_test.go (TestGlobMatch), the whole table, in order.
const UPSTREAM: Case[] = [
  { image: 'foo', glob: 'index.docker.io/library/foo:latest', wantMatch: true },
  { image: 'foo', glob: 'index.docker.io/library/foo:*', wantMatch: true },
  { image: 'foo', glob: 'index.docker.io/library/*', wantMatch: true },
  { image: 'foo', glob: 'index.docker.io/library/*:latest', wantMatch: true },
  { image: 'foo', glob: 'index.docker.io/*/*', wantMatch: true },
  { image: 'foo', glob: 'index.docker.io/**', wantMatch: true },
  { image: 'foo', glob: 'index.docker.**', wantMatch: true },
  { image: 'foo', glob: 'inde**', wantMatch: true },
  { image: 'foo', glob: '**', wantMatch: true },
  { image: 'foo', glob: 'foo', wantMatch: true }, // matches because of deprecated fallback logic
  { image: 'foo', glob: 'foo*', wantMatch: true }, // * matches 0+ characters
  { image: 'foo', glob: 'foo**', wantMatch: true }, // ** matches 0+ characters

  { image: 'myuser/myapp', glob: 'index.docker.io/myuser/myapp:latest', wantMatch: true },
  { image: 'myuser/myapp', glob: 'index.docker.io/myuser/myapp:*', wantMatch: true },
  { image: 'myuser/myapp', glob: 'index.docker.io/myuser/*', wantMatch: true },
  { image: 'myuser/myapp', glob: 'index.docker.io/myuser/*:latest', wantMatch: true },
  { image: 'myuser/myapp', glob: 'index.docker.io/*/*', wantMatch: true },
  { image: 'myuser/myapp', glob: 'index.docker.io/**', wantMatch: true },
  { image: 'myuser/myapp', glob: 'index.docker.**', wantMatch: true },
  { image: 'myuser/myapp', glob: 'inde**', wantMatch: true },
  { image: 'myuser/myapp', glob: '**', wantMatch: true },
  { image: 'myuser/myapp', glob: 'myuser/myapp', wantMatch: true }, // deprecated fallback logic
  { image: 'myuser/myapp', glob: 'myuser/myapp*', wantMatch: true },
  { image: 'myuser/myapp', glob: 'myuser/myapp**', wantMatch: true },

  // Fully qualified refs and globs.
  { image: 'ghcr.io/foo/bar', glob: 'ghcr.io/*/*', wantMatch: true },
  { image: 'ghcr.io/foo/bar', glob: 'ghcr.io/**', wantMatch: true },
  { image: 'ghcr.io/foo', glob: 'ghcr.io/*/*', wantMatch: false }, // doesn't match second *
  { image: 'ghcr.io/foo', glob: 'ghcr.io/**', wantMatch: true },
  { image: 'ghcr.io/foo', glob: 'ghc**', wantMatch: true },
  { image: 'ghcr.io/foo', glob: '**', wantMatch: true },
  { image: 'ghcr.io/foo', glob: '*/**', wantMatch: true },
  { image: 'ghcr.io/foo', glob: 'ghcr.io/foo*', wantMatch: true },
  { image: 'ghcr.io/foo', glob: 'ghcr.io/foo**', wantMatch: true },

  // Various error cases.
  { image: 'prefix-ghcr.io/foo', glob: 'ghcr.io/foo', wantMatch: false }, // glob starts at beginning
  { image: 'ghcr.io/foo-suffix', glob: 'ghcr.io/foo', wantMatch: false }, // glob ends at the end
  { image: 'ghcrxio/foo', glob: 'ghcr.io/**', wantMatch: false }, // dots are literal
  { image: 'invalid&name', glob: '**', wantMatch: false, wantError: 'POLICY_IMAGE_INVALID' },
  { image: 'invalid-glob', glob: '.+', wantMatch: false, wantError: 'POLICY_INVALID' },
  { image: 'invalid-glob', glob: '[a-z]*', wantMatch: false, wantError: 'POLICY_INVALID' },

  // Upgrading unqualified globs to assume index.docker.io prefix.
  { image: 'foo', glob: '*', wantMatch: true },
  { image: 'myuser/myapp', glob: '*/*', wantMatch: true },
];

// Docker Hub normalisation of the image, digests and tags, and what `*` and `**` reach. Each outcome was
// checked against go-containerregistry v0.22.1 `name.ParseReference` and upstream `glob.Match` (Go 1.26),
// as were 6,000 generated references and 8,000 generated glob/image pairs.
const NORMALISATION: Case[] = [
  { image: 'docker.io/library/busybox', glob: 'index.docker.io/library/busybox:latest', wantMatch: true },
  { image: 'index.docker.io/busybox:1.36', glob: 'index.docker.io/library/busybox:1.36', wantMatch: true },
  { image: 'docker.io/busybox', glob: 'index.docker.io/library/*', wantMatch: true },
  { image: 'busybox', glob: 'docker.io/library/busybox', wantMatch: false }, // the glob is not normalised
  { image: 'busybox:1.36', glob: 'index.docker.io/library/busybox', wantMatch: false }, // tag is part of the name
  { image: 'busybox:1.36', glob: 'index.docker.io/library/busybox:**', wantMatch: true },
  { image: 'library/busybox', glob: '*/*', wantMatch: true },
  { image: 'ghcr.io/org/app', glob: '*', wantMatch: false }, // `*` is Docker Hub's official images only
  { image: 'ghcr.io/org/app', glob: '*/*', wantMatch: false },
  { image: 'ghcr.io/org/team/app:v1', glob: 'ghcr.io/org/*', wantMatch: false }, // * stops at /
  { image: 'ghcr.io/org/team/app:v1', glob: 'ghcr.io/org/**', wantMatch: true },
  { image: 'ghcr.io/org/app:v1', glob: 'ghcr.io/org/app:v*', wantMatch: true },
  { image: `ghcr.io/org/app@${DIGEST}`, glob: `ghcr.io/org/app@${DIGEST}`, wantMatch: true },
  { image: `ghcr.io/org/app@${DIGEST}`, glob: 'ghcr.io/org/app@sha256:*', wantMatch: true },
  { image: `ghcr.io/org/app@${DIGEST}`, glob: 'ghcr.io/org/app:*', wantMatch: false },
  { image: `ghcr.io/org/app:v1@${DIGEST}`, glob: `ghcr.io/org/app@${DIGEST}`, wantMatch: true }, // tag dropped
  { image: `ghcr.io/org/app:v1@${DIGEST}`, glob: 'ghcr.io/org/app:v1*', wantMatch: true }, // as written
  { image: `busybox@${DIGEST}`, glob: 'index.docker.io/library/busybox@sha256:*', wantMatch: true },
  { image: 'localhost:5000/app', glob: 'localhost:5000/app:latest', wantMatch: true },
  { image: 'localhost:5000/app:v2', glob: 'localhost:5000/*', wantMatch: true },
  { image: 'localhost/app', glob: 'localhost/app:latest', wantMatch: true }, // localhost is a registry
  { image: 'localhost/app', glob: 'index.docker.io/**', wantMatch: false },
  { image: 'local/app', glob: 'index.docker.io/local/app:latest', wantMatch: true }, // no . or : → Docker Hub
  { image: 'registry.local/app', glob: 'registry.local/**', wantMatch: true },
  { image: 'Registry.Local/app', glob: 'Registry.Local/app:latest', wantMatch: true }, // registries keep case
  { image: 'ghcr.io/Org/app', glob: '**', wantMatch: false, wantError: 'POLICY_IMAGE_INVALID' },
  { image: 'ghcr.io/org/app:', glob: '**', wantMatch: false, wantError: 'POLICY_IMAGE_INVALID' }, // empty tag
  { image: 'a', glob: 'index.docker.io/library/a:latest', wantMatch: true },
  { image: 'app:v1:v2', glob: '**', wantMatch: false, wantError: 'POLICY_IMAGE_INVALID' },
  { image: `app@${DIGEST}@${DIGEST}`, glob: '**', wantMatch: false, wantError: 'POLICY_IMAGE_INVALID' },
  { image: 'reg@x.io/app', glob: '**', wantMatch: false, wantError: 'POLICY_IMAGE_INVALID' }, // userinfo
  { image: 'x.io:[::1]:80/app', glob: '**', wantMatch: false, wantError: 'POLICY_IMAGE_INVALID' },
  { image: `app@sha512:${'ab'.repeat(64)}`, glob: 'index.docker.io/library/app@sha512:*', wantMatch: true },
  { image: `app@ssssss:${DIGEST.slice(7)}`, glob: '**', wantMatch: false, wantError: 'POLICY_IMAGE_INVALID' },
  { image: 'ghcr.io/org/app@sha256:abc', glob: '**', wantMatch: false, wantError: 'POLICY_IMAGE_INVALID' },
  { image: 'https://ghcr.io/org/app', glob: '**', wantMatch: false, wantError: 'POLICY_IMAGE_INVALID' },
  { image: 'ghcr.io:abc/app', glob: '**', wantMatch: false, wantError: 'POLICY_IMAGE_INVALID' }, // port
  { image: '', glob: '**', wantMatch: false, wantError: 'POLICY_IMAGE_INVALID' },
];

function check({ image, glob, wantMatch, wantError }: Case): void {
  if (wantError) {
    assert.throws(
      () => matchesImage(glob, image),
      (error: unknown) => error instanceof PolicyError && error.code === wantError,
    );
    return;
  }
  assert.equal(matchesImage(glob, image), wantMatch);
}

describe('matchesImage', () => {
  describe("policy-controller's glob table", () => {
    for (const c of UPSTREAM) {
      const outcome = c.wantError
        ? `rejects with ${c.wantError}`
        : c.wantMatch
          ? 'matches'
          : 'does not match';
      it(`${outcome}: image ${c.image} against glob ${c.glob}`, () => check(c));
    }
  });

  describe('Docker Hub normalisation, tags and digests', () => {
    for (const c of NORMALISATION) {
      const outcome = c.wantError
        ? `rejects with ${c.wantError}`
        : c.wantMatch
          ? 'matches'
          : 'does not match';
      it(`${outcome}: image ${c.image || '(empty)'} against glob ${c.glob}`, () => check(c));
    }
  });
});

describe('compileImageGlob', () => {
  it('returns the same compiled glob for the same text', () => {
    assert.equal(compileImageGlob('ghcr.io/org/**'), compileImageGlob('ghcr.io/org/**'));
  });

  it('rewrites a bare * to Docker Hub official images and says so', () => {
    const glob = compileImageGlob('*');
    assert.equal(glob.pattern, 'index.docker.io/library/*');
    assert.equal(glob.warning, 'the glob match "*" should be "index.docker.io/library/*"');
    assert.equal(compileImageGlob('ghcr.io/**').warning, undefined);
  });

  it('names the glob and the field in an invalid value error', () => {
    assert.throws(
      () => compileImageGlob('ghcr.io/(org)', 'spec.images[2].glob'),
      (error: unknown) =>
        error instanceof PolicyError &&
        error.code === 'POLICY_INVALID' &&
        error.message.startsWith('invalid value: ghcr.io/(org): spec.images[2].glob'),
    );
  });

  it('rejects a glob longer than the limit', () => {
    assert.throws(
      () => compileImageGlob('a'.repeat(2000)),
      (error: unknown) => error instanceof PolicyError && error.code === 'POLICY_INVALID',
    );
  });

  it('matches hostile globs against long names in linear time', () => {
    const glob = compileImageGlob(`${'*a'.repeat(200)}*b`);
    const image = `ghcr.io/${'a'.repeat(250)}`;
    const started = performance.now();
    assert.equal(glob.matches(image), false);
    assert.ok(performance.now() - started < 500, 'took longer than 500 ms');
  });
});

describe('normalizeImageName', () => {
  it('names images as go-containerregistry does', () => {
    assert.equal(normalizeImageName('ubuntu'), 'index.docker.io/library/ubuntu:latest');
    assert.equal(normalizeImageName('docker.io/myuser/app:1'), 'index.docker.io/myuser/app:1');
    assert.equal(normalizeImageName(`app:1@${DIGEST}`), `index.docker.io/library/app@${DIGEST}`);
    assert.equal(normalizeImageName('[::1]:5000/app'), '[::1]:5000/app:latest');
  });
});
