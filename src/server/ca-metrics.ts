import { Counter } from 'prom-client';
import type { IssuedCertificate } from '../ca/index.ts';
import type { ServerMetrics } from './metrics.ts';

/**
 * Prometheus metrics of the keyless CA: certificates issued, and the seconds their issuance spent per
 * stage (`token`: verifying the identity token and proof of possession; `signing`: building and
 * signing precertificate and certificate; `ct`: waiting for the CT log's SCT). bench:ca prints the
 * split from these.
 */
export function registerCaMetrics(metrics: ServerMetrics): (issued: IssuedCertificate) => void {
  const registers = [metrics.registry];
  const certificates = new Counter({
    name: 'sigil_ca_certificates_issued_total',
    help: 'Certificates the keyless CA issued',
    registers,
  });
  const stageSeconds = new Counter({
    name: 'sigil_ca_issue_stage_seconds_total',
    help: 'Seconds spent issuing certificates, by stage (token, signing, ct)',
    labelNames: ['stage'] as const,
    registers,
  });
  return (issued) => {
    certificates.inc();
    stageSeconds.inc({ stage: 'token' }, issued.timings.tokenSeconds);
    stageSeconds.inc({ stage: 'signing' }, issued.timings.signingSeconds);
    stageSeconds.inc({ stage: 'ct' }, issued.timings.ctSeconds);
  };
}
