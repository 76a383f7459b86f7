// Bundle verification on one core, Sigil against @sigstore/verify in the same run with the same trust
// roots: the sigstore-conformance happy-path bundles that both verify (keyless ones counted apart),
// each parsed from its JSON text afresh on every verification. Prints bundles/s for each, the ratio, and
// Sigil's keyless figure beside the targets of the verification issue (≥ 10× sigstore-js, ≥ 3,000/s).
//
// Two Sigil figures: "repeated" is the webhook's steady state — the same signatures seen again, so a
// signature check that already succeeded over the same bytes with the same key is remembered
// (src/verify/internal/verified-signatures.ts) and everything else is redone; "first sight" forgets
// those before every verification, so each ECDSA check (a P-384 one ~1 ms here) is paid in full.
//
//   npm run bench:verify
//   SIGIL_BENCH_SECONDS=2 npm run bench:verify     shorter runs (default 3 s per verifier)
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import * as sigstoreVerify from '@sigstore/verify';
import {
  loadConformanceCases,
  verifyConformanceCase,
  EXPECTED_FAILURES,
  type ConformanceCase,
} from '../test/verify/conformance-cases.ts';
import { forgetVerifiedSignatures } from '../src/verify/internal/verified-signatures.ts';
import { report } from './report.ts';

const SECONDS = Number(process.env.SIGIL_BENCH_SECONDS ?? 3);

interface Prepared {
  readonly testCase: ConformanceCase;
  readonly bundleText: string;
  readonly keyless: boolean;
  readonly sigstoreJs?: () => void;
}

function sigstoreJsVerifier(testCase: ConformanceCase, bundleText: string): (() => void) | undefined {
  if (testCase.keyPem) return undefined;
  const trust = sigstoreVerify.toTrustMaterial(
    TrustedRoot.fromJSON(JSON.parse(Buffer.from(testCase.trustedRoot).toString('utf8'))),
  );
  const verifier = new sigstoreVerify.Verifier(trust);
  const run = () =>
    verifier.verify(
      sigstoreVerify.toSignedEntity(bundleFromJSON(JSON.parse(bundleText)), Buffer.from(testCase.artifact)),
      {
        subjectAlternativeName: testCase.identity,
        extensions: { issuer: testCase.issuer },
      },
    );
  try {
    run();
    return run;
  } catch {
    return undefined; // a bundle kind this sigstore-js version does not verify (e.g. Rekor v2)
  }
}

/** Verifications per second of `run` over `items`, round robin, for SECONDS after a short warm-up. */
function rate<T>(items: readonly T[], run: (item: T) => void): number {
  const deadline = (seconds: number) => performance.now() + seconds * 1000;
  for (let end = deadline(0.5), i = 0; performance.now() < end; i++) run(items[i % items.length]!);
  let count = 0;
  const start = performance.now();
  for (const end = deadline(SECONDS); performance.now() < end; count++) run(items[count % items.length]!);
  return count / ((performance.now() - start) / 1000);
}

const prepared: Prepared[] = loadConformanceCases()
  .filter((testCase) => EXPECTED_FAILURES[testCase.name] === undefined)
  .map((testCase) => {
    const bundleText = Buffer.from(testCase.bundle).toString('utf8');
    const sigstoreJs = sigstoreJsVerifier(testCase, bundleText);
    return { testCase, bundleText, keyless: !testCase.keyPem, ...(sigstoreJs ? { sigstoreJs } : {}) };
  });
const both = prepared.filter((item) => item.sigstoreJs);
const keyless = prepared.filter((item) => item.keyless);
process.stdout.write(
  `${prepared.length} happy-path bundles (${keyless.length} keyless); ${both.length} that @sigstore/verify also verifies\n`,
);

const sigilRate = rate(both, (item) => verifyConformanceCase(item.testCase, item.bundleText));
const sigilFirstRate = rate(both, (item) => {
  forgetVerifiedSignatures();
  verifyConformanceCase(item.testCase, item.bundleText);
});
const sigstoreRate = rate(both, (item) => item.sigstoreJs!());
report('verify bundles/s, @sigstore/verify', sigstoreRate, {});
report('verify bundles/s, Sigil, repeated signatures', sigilRate, {});
report('verify bundles/s, Sigil, first sight of each signature', sigilFirstRate, {});
report('verify speed-up, Sigil repeated ÷ @sigstore/verify', sigilRate / sigstoreRate, { atLeast: 10 });
report('verify speed-up, Sigil first sight ÷ @sigstore/verify', sigilFirstRate / sigstoreRate, {
  atLeast: 10,
});
const keylessRate = rate(keyless, (item) => verifyConformanceCase(item.testCase, item.bundleText));
const keylessFirstRate = rate(keyless, (item) => {
  forgetVerifiedSignatures();
  verifyConformanceCase(item.testCase, item.bundleText);
});
report('verify keyless bundles/s, Sigil, repeated signatures', keylessRate, { atLeast: 3_000 });
report('verify keyless bundles/s, Sigil, first sight', keylessFirstRate, { atLeast: 3_000 });
