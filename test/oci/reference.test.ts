// Cases from distribution/reference (reference_test.go TestReferenceParse, normalize_test.go
// TestValidateReferenceName, TestValidateRemoteName, TestParseRepositoryInfo, TestNormalizedSplitHostname,
// TestParseReferenceWithTagAndDigest), read as `docker pull` reads them: through ParseNormalizedNamed, so
// a bare name lands on Docker Hub under `library/`, and Docker Hub is the host its API answers on.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OciError } from '../../src/oci/errors.ts';
import { formatReference, parseImageReference, withDigest, withTag } from '../../src/oci/reference.ts';

const HUB = 'registry-1.docker.io';
const F64 = 'f'.repeat(64);
const SHA256 = `sha256:${F64}`;
const SHA512 = `sha512:${'f'.repeat(128)}`;
const HEX64 = '1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a';

/** [input, registry, repository, tag, digest] */
const VALID: [string, string, string, string | undefined, string | undefined][] = [
  ['test_com', HUB, 'library/test_com', 'latest', undefined],
  ['test.com:tag', HUB, 'library/test.com', 'tag', undefined],
  ['test.com:5000', HUB, 'library/test.com', '5000', undefined],
  ['test.com/repo:tag', 'test.com', 'repo', 'tag', undefined],
  ['test:5000/repo', 'test:5000', 'repo', 'latest', undefined],
  ['test:5000/repo:tag', 'test:5000', 'repo', 'tag', undefined],
  [`test:5000/repo@${SHA256}`, 'test:5000', 'repo', undefined, SHA256],
  [`test:5000/repo:tag@${SHA256}`, 'test:5000', 'repo', 'tag', SHA256],
  ['lowercase:Uppercase', HUB, 'library/lowercase', 'Uppercase', undefined],
  [`${'a/'.repeat(122)}a:tag`, HUB, `${'a/'.repeat(122)}a`, 'tag', undefined],
  ['sub-dom1.foo.com/bar/baz/quux', 'sub-dom1.foo.com', 'bar/baz/quux', 'latest', undefined],
  [
    'sub-dom1.foo.com/bar/baz/quux:some-long-tag',
    'sub-dom1.foo.com',
    'bar/baz/quux',
    'some-long-tag',
    undefined,
  ],
  [
    'b.gcr.io/test.example.com/my-app:test.example.com',
    'b.gcr.io',
    'test.example.com/my-app',
    'test.example.com',
    undefined,
  ],
  ['xn--n3h.com/myimage:xn--n3h.com', 'xn--n3h.com', 'myimage', 'xn--n3h.com', undefined],
  [`xn--7o8h.com/myimage:xn--7o8h.com@${SHA512}`, 'xn--7o8h.com', 'myimage', 'xn--7o8h.com', SHA512],
  ['foo_bar.com:8080', HUB, 'library/foo_bar.com', '8080', undefined],
  ['foo/foo_bar.com:8080', HUB, 'foo/foo_bar.com', '8080', undefined],
  ['192.168.1.1', HUB, 'library/192.168.1.1', 'latest', undefined],
  ['192.168.1.1:tag', HUB, 'library/192.168.1.1', 'tag', undefined],
  ['192.168.1.1:5000', HUB, 'library/192.168.1.1', '5000', undefined],
  ['192.168.1.1/repo', '192.168.1.1', 'repo', 'latest', undefined],
  ['192.168.1.1:5000/repo', '192.168.1.1:5000', 'repo', 'latest', undefined],
  ['192.168.1.1:5000/repo:5050', '192.168.1.1:5000', 'repo', '5050', undefined],
  ['[2001:db8::1]/repo', '[2001:db8::1]', 'repo', 'latest', undefined],
  ['[2001:db8:1:2:3:4:5:6]/repo:tag', '[2001:db8:1:2:3:4:5:6]', 'repo', 'tag', undefined],
  ['[2001:db8::1]:5000/repo', '[2001:db8::1]:5000', 'repo', 'latest', undefined],
  ['[2001:db8::1]:5000/repo:tag', '[2001:db8::1]:5000', 'repo', 'tag', undefined],
  [`[2001:db8::1]:5000/repo@${SHA256}`, '[2001:db8::1]:5000', 'repo', undefined, SHA256],
  [`[2001:db8::1]:5000/repo:tag@${SHA256}`, '[2001:db8::1]:5000', 'repo', 'tag', SHA256],
  ['[2001:db8::]:5000/repo', '[2001:db8::]:5000', 'repo', 'latest', undefined],
  ['[::1]:5000/repo', '[::1]:5000', 'repo', 'latest', undefined],
  // normalize_test.go
  ['docker/docker', HUB, 'docker/docker', 'latest', undefined],
  ['library/debian', HUB, 'library/debian', 'latest', undefined],
  ['debian', HUB, 'library/debian', 'latest', undefined],
  ['docker.io/docker/docker', HUB, 'docker/docker', 'latest', undefined],
  ['docker.io/library/debian', HUB, 'library/debian', 'latest', undefined],
  ['docker.io/debian', HUB, 'library/debian', 'latest', undefined],
  ['index.docker.io/docker/docker', HUB, 'docker/docker', 'latest', undefined],
  ['index.docker.io/library/debian', HUB, 'library/debian', 'latest', undefined],
  ['index.docker.io/debian', HUB, 'library/debian', 'latest', undefined],
  ['127.0.0.1:5000/docker/docker', '127.0.0.1:5000', 'docker/docker', 'latest', undefined],
  ['127.0.0.1:5000/library/debian', '127.0.0.1:5000', 'library/debian', 'latest', undefined],
  ['127.0.0.1:5000/debian', '127.0.0.1:5000', 'debian', 'latest', undefined],
  ['192.168.0.1', HUB, 'library/192.168.0.1', 'latest', undefined],
  ['192.168.0.1:80', HUB, 'library/192.168.0.1', '80', undefined],
  ['192.168.0.1:8/debian', '192.168.0.1:8', 'debian', 'latest', undefined],
  ['192.168.0.2:25000/debian', '192.168.0.2:25000', 'debian', 'latest', undefined],
  [
    'thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev',
    HUB,
    'library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev',
    'latest',
    undefined,
  ],
  ['[fc00::1]:5000/docker', '[fc00::1]:5000', 'docker', 'latest', undefined],
  ['[fc00::1]:5000/docker/docker', '[fc00::1]:5000', 'docker/docker', 'latest', undefined],
  [
    '[fc00:1:2:3:4:5:6:7]:5000/library/debian',
    '[fc00:1:2:3:4:5:6:7]:5000',
    'library/debian',
    'latest',
    undefined,
  ],
  [`docker.io/${HEX64}`, HUB, `library/${HEX64}`, 'latest', undefined],
  ['Docker/docker', 'Docker', 'docker', 'latest', undefined],
  ['DOCKER/docker', 'DOCKER', 'docker', 'latest', undefined],
  ['docker-rules/docker', HUB, 'docker-rules/docker', 'latest', undefined],
  ['docker---rules/docker', HUB, 'docker---rules/docker', 'latest', undefined],
  ['doc/docker', HUB, 'doc/docker', 'latest', undefined],
  ['d/docker', HUB, 'd/docker', 'latest', undefined],
  ['jess/t', HUB, 'jess/t', 'latest', undefined],
  ['dock__er/docker', HUB, 'dock__er/docker', 'latest', undefined],
  ['fooo/bar', HUB, 'fooo/bar', 'latest', undefined],
  ['library/ubuntu-12.04-base', HUB, 'library/ubuntu-12.04-base', 'latest', undefined],
  ['docker.io/library/foo/bar', HUB, 'library/foo/bar', 'latest', undefined],
  ['store/foo/bar', HUB, 'store/foo/bar', 'latest', undefined],
  ['example.com:8000/private/moonbase', 'example.com:8000', 'private/moonbase', 'latest', undefined],
  ['test-com:8080/foo', 'test-com:8080', 'foo', 'latest', undefined],
  ['xn--n3h.com:18080/foo', 'xn--n3h.com:18080', 'foo', 'latest', undefined],
  [
    'busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa',
    HUB,
    'library/busybox',
    'latest',
    'sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa',
  ],
  // localhost is always a registry; Docker Hub's API host is folded like its other names.
  ['localhost/foo', 'localhost', 'foo', 'latest', undefined],
  ['localhost:5000/foo/bar:v1', 'localhost:5000', 'foo/bar', 'v1', undefined],
  ['nginx', HUB, 'library/nginx', 'latest', undefined],
  ['registry-1.docker.io/nginx', HUB, 'library/nginx', 'latest', undefined],
];

/** [input, what the message must mention] */
const INVALID: [string, RegExp][] = [
  ['', /non-empty/],
  [':justtag', /repository/],
  [`@${SHA256}`, /repository/],
  [
    'repo@sha256:ffffffffffffffffffffffffffffffffff',
    /sha256 digest must have 64 hex characters, received 34/,
  ],
  [`validname@invaliddigest:${F64}`, /unsupported digest algorithm "invaliddigest"/],
  ['Uppercase:tag', /must be lower-case/],
  ['test:5000/Uppercase/lowercase:tag', /must be lower-case/],
  [`${'a/'.repeat(128)}a:tag`, /at most 255 characters/],
  // 255 characters after the registry, 265 with docker.io/ in front of them (Parse alone takes it).
  [`${'a/'.repeat(127)}a:tag-puts-this-over-max`, /at most 255 characters/],
  ['aa/asdf$$^/aa', /repository/],
  ['[2001:db8::1]', /tag/],
  ['[2001:db8::1]:5000', /./],
  ['[2001:db8::1]:tag', /./],
  ['[fe80::1%eth0]:5000/repo', /registry/],
  ['[fe80::1%@invalidzone]:5000/repo', /./],
  // normalize_test.go invalid names
  ['https://github.com/docker/docker', /registry/],
  ['docker/Docker', /must be lower-case/],
  ['-docker', /repository/],
  ['-docker/docker', /repository/],
  ['-docker.io/docker/docker', /registry/],
  ['docker///docker', /repository/],
  ['docker.io/docker/Docker', /must be lower-case/],
  ['docker.io/docker///docker', /repository/],
  ['[fc00::1]', /./],
  ['[fc00::1]:5000', /./],
  ['fc00::1:5000/debian', /registry/],
  ['[fe80::1%eth0]:5000/debian', /registry/],
  ['[2001:db8:3:4::192.0.2.33]:5000/debian', /registry/],
  [HEX64, /image id/],
  ['docker-/docker', /repository/],
  ['-docker-/docker', /repository/],
  ['____/____', /repository/],
  ['_docker/_docker', /repository/],
  ['dock..er/docker', /registry/],
  ['dock_.er/docker', /registry/],
  ['dock-.er/docker', /registry/],
  ['docker/', /repository/],
  [`${'this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_'.repeat(4)}/docker`, /255/],
  // digests and tags checked beyond the grammar
  [`repo@sha256:${'F'.repeat(64)}`, /lower-case hex/],
  [`repo@sha256:${'f'.repeat(128)}`, /64 hex characters, received 128/],
  [`repo@sha512:${F64}`, /128 hex characters, received 64/],
  [`repo:${'t'.repeat(129)}`, /tag/],
  ['repo:-tag', /tag/],
  ['repo:ta g', /./],
  ['x'.repeat(1000), /at most 600 characters/],
];

describe('parseImageReference', () => {
  for (const [input, registry, repository, tag, digest] of VALID) {
    it(`reads ${JSON.stringify(input.length > 60 ? `${input.slice(0, 60)}…` : input)}`, () => {
      const reference = parseImageReference(input);
      assert.equal(reference.registry, registry);
      assert.equal(reference.repository, repository);
      assert.equal(reference.tag, tag);
      assert.equal(reference.digest, digest);
      assert.equal(reference.canonical, formatReference({ registry, repository, tag, digest }));
      assert.ok(Object.isFrozen(reference));
      // The canonical form parses back to itself.
      assert.equal(parseImageReference(reference.canonical).canonical, reference.canonical);
    });
  }

  for (const [input, message] of INVALID) {
    it(`rejects ${JSON.stringify(input.length > 60 ? `${input.slice(0, 60)}…` : input)} with OCI_REFERENCE_INVALID`, () => {
      assert.throws(
        () => parseImageReference(input),
        (error: unknown) => {
          assert.ok(error instanceof OciError);
          assert.equal(error.code, 'OCI_REFERENCE_INVALID');
          assert.match(error.message, message);
          return true;
        },
      );
    });
  }

  it('names Docker Hub images by the host its API answers on', () => {
    assert.equal(parseImageReference('nginx').canonical, 'registry-1.docker.io/library/nginx:latest');
    assert.equal(
      parseImageReference('docker.io/nginx:1.27').canonical,
      'registry-1.docker.io/library/nginx:1.27',
    );
  });
});

describe('withDigest and withTag', () => {
  const base = parseImageReference('127.0.0.1:5000/sigil/app:v1');

  it('pins a reference to a digest, keeping its tag', () => {
    const pinned = withDigest(base, SHA256);
    assert.equal(pinned.canonical, `127.0.0.1:5000/sigil/app:v1@${SHA256}`);
    assert.equal(pinned.tag, 'v1');
  });

  it('moves a reference to another tag without a digest', () => {
    const moved = withTag(withDigest(base, SHA256), `sha256-${F64}.sig`);
    assert.equal(moved.canonical, `127.0.0.1:5000/sigil/app:sha256-${F64}.sig`);
    assert.equal(moved.digest, undefined);
  });

  it('rejects a malformed digest or tag with OCI_REFERENCE_INVALID', () => {
    for (const call of [() => withDigest(base, 'sha256:abc'), () => withTag(base, '.bad')]) {
      assert.throws(
        call,
        (error: unknown) => error instanceof OciError && error.code === 'OCI_REFERENCE_INVALID',
      );
    }
  });
});
