import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { freePort } from './ports.ts';
import { startService, waitUntil, type Service } from './service.ts';
import { toolPath } from './tools.ts';

export interface RunningControlPlane {
  /** `https://127.0.0.1:PORT` */
  server: string;
  /** Bearer token of a `system:masters` user. */
  token: string;
  /** PEM of the CA that signed the API server's serving certificate. */
  caPem: string;
  /** A client configuration for the cluster, as a kubeconfig would give it. */
  kubeConfig(): KubeConfig;
  /** The same, written as a kubeconfig file (for kubectl-style tools). */
  kubeConfigPath: string;
  stop(): Promise<void>;
}

/**
 * Starts etcd and a real kube-apiserver (built by scripts/install-tools.sh kube) on loopback ports in a
 * temporary folder: generated serving certificates, a service-account key pair and a static admin token.
 * No controller manager, scheduler or kubelet: enough for CRDs, admission webhooks and informers.
 */
export async function startControlPlane(): Promise<RunningControlPlane> {
  const dir = await mkdtemp(join(tmpdir(), 'sigil-kube-'));
  const services: Service[] = [];
  const stopAll = async () => {
    for (const service of services.reverse()) await service.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const etcdUrl = await startEtcd(dir, services);
    const { server, token, caPem, kubeConfigPath } = await startApiServer(dir, etcdUrl, services);
    const kubeConfig = () => {
      const config = new KubeConfig();
      config.loadFromFile(kubeConfigPath);
      return config;
    };
    return { server, token, caPem, kubeConfig, kubeConfigPath, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

async function startEtcd(dir: string, services: Service[]): Promise<string> {
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const etcd = startService(
    'etcd',
    toolPath('etcd'),
    [
      '--name=sigil-test',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${clientUrl}`,
      `--advertise-client-urls=${clientUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=sigil-test=${peerUrl}`,
      '--log-level=error',
    ],
    { env: { ...process.env, ETCD_UNSUPPORTED_ARCH: process.arch === 'x64' ? '' : process.arch } },
  );
  services.push(etcd);
  await waitUntil(etcd, 'GET /health answers', async () => (await fetch(`${clientUrl}/health`)).ok, 30_000);
  return clientUrl;
}

async function startApiServer(
  dir: string,
  etcdUrl: string,
  services: Service[],
): Promise<{ server: string; token: string; caPem: string; kubeConfigPath: string }> {
  const certDir = join(dir, 'certs');
  await mkdir(certDir);
  const serviceAccount = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  await writeFile(join(dir, 'sa.key'), serviceAccount.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  await writeFile(join(dir, 'sa.pub'), serviceAccount.publicKey.export({ type: 'spki', format: 'pem' }));
  const token = randomBytes(24).toString('hex');
  await writeFile(join(dir, 'tokens.csv'), `${token},sigil-admin,sigil-admin-uid,"system:masters"\n`);
  const port = await freePort();
  const server = `https://127.0.0.1:${port}`;
  const apiServer = startService('kube-apiserver', toolPath('kube-apiserver'), [
    `--etcd-servers=${etcdUrl}`,
    `--etcd-prefix=/sigil-${randomBytes(4).toString('hex')}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${port}`,
    `--cert-dir=${certDir}`,
    `--token-auth-file=${join(dir, 'tokens.csv')}`,
    '--authorization-mode=RBAC',
    `--service-account-issuer=${server}`,
    `--service-account-key-file=${join(dir, 'sa.pub')}`,
    `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
    '--service-cluster-ip-range=10.0.0.0/24',
    '--endpoint-reconciler-type=none',
    '--allow-privileged=true',
    '--profiling=false',
    '-v=0',
  ]);
  services.push(apiServer);
  // The API server writes its self-signed serving certificate followed by its CA on start-up.
  let caPem = '';
  await waitUntil(
    apiServer,
    'GET /readyz answers ok',
    async () => {
      caPem = await readFile(join(certDir, 'apiserver.crt'), 'utf8');
      return (await getStatus(`${server}/readyz`, token, caPem)) === 200;
    },
    120_000,
  );
  const kubeConfigPath = join(dir, 'kubeconfig');
  await writeFile(kubeConfigPath, kubeConfigYaml(server, token, caPem));
  return { server, token, caPem, kubeConfigPath };
}

function getStatus(url: string, token: string, ca: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { headers: { authorization: `Bearer ${token}` }, ca, timeout: 5_000 },
      (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

function kubeConfigYaml(server: string, token: string, caPem: string): string {
  const ca = Buffer.from(caPem).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: sigil-test\n  cluster:\n    server: ${server}\n    certificate-authority-data: ${ca}`,
    'users:',
    `- name: sigil-admin\n  user:\n    token: ${token}`,
    'contexts:',
    '- name: sigil-test\n  context:\n    cluster: sigil-test\n    user: sigil-admin',
    'current-context: sigil-test',
    '',
  ].join('\n');
}
