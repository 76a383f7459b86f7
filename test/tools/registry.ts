import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';
import { startService, waitUntil, type Service } from './service.ts';
import { toolPath } from './tools.ts';

export interface RunningRegistry {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** `127.0.0.1:PORT`, the form image references use. */
  host: string;
  service: Service;
  stop(): Promise<void>;
}

/** Starts the distribution registry (Debian `docker-registry`) on a free port with throwaway storage. */
export async function startRegistry(): Promise<RunningRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'sigil-registry-'));
  const port = await freePort();
  const config = join(dir, 'config.yml');
  await writeFile(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: error',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(dir, 'data')}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      '',
    ].join('\n'),
  );
  const service = startService('docker-registry', toolPath('docker-registry'), ['serve', config]);
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(
    service,
    'GET /v2/ answers 200',
    async () => (await fetch(`${url}/v2/`)).status === 200,
    30_000,
  );
  return {
    url,
    host: `127.0.0.1:${port}`,
    service,
    async stop() {
      await service.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
