import { chown, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './ports.ts';
import { run, startService, waitUntil, type Service } from './service.ts';

export interface RunningPostgres {
  /** `postgres://postgres@127.0.0.1:PORT/postgres` */
  connectionString: string;
  port: number;
  service: Service;
  stop(): Promise<void>;
}

/**
 * Starts a throwaway PostgreSQL cluster (Debian `postgresql`) on a free port in a temporary folder.
 * PostgreSQL refuses to run as root, so when the tests run as root the cluster belongs to the
 * `postgres` user the Debian package creates.
 */
export async function startPostgres(): Promise<RunningPostgres> {
  const bin = await postgresBinDir();
  const dir = await mkdtemp(join(tmpdir(), 'sigil-postgres-'));
  const data = join(dir, 'data');
  const socket = join(dir, 'socket');
  await mkdir(socket);
  const owner = process.getuid?.() === 0 ? await systemUser('postgres') : undefined;
  if (owner) {
    await chown(dir, owner.uid, owner.gid);
    await chown(socket, owner.uid, owner.gid);
  }
  const asOwner = owner ? { uid: owner.uid, gid: owner.gid } : {};
  await run(
    join(bin, 'initdb'),
    ['-D', data, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--no-instructions'],
    {
      ...asOwner,
      cwd: dir,
    },
  );
  const port = await freePort();
  const service = startService(
    'postgres',
    join(bin, 'postgres'),
    ['-D', data, '-p', String(port), '-k', socket, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=on'],
    { ...asOwner, cwd: dir, stopSignal: 'SIGINT' },
  );
  const connectionString = `postgres://postgres@127.0.0.1:${port}/postgres`;
  await waitUntil(service, 'a connection succeeds', async () => {
    const client = new pg.Client({ connectionString });
    await client.connect();
    await client.end();
    return true;
  });
  return {
    connectionString,
    port,
    service,
    async stop() {
      await service.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The newest installed server's bin folder, e.g. /usr/lib/postgresql/15/bin. */
async function postgresBinDir(): Promise<string> {
  const root = '/usr/lib/postgresql';
  const versions = (await readdir(root).catch(() => [])).filter((name) => /^\d+$/.test(name));
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error(`no PostgreSQL server under ${root}; run scripts/install-tools.sh apt`);
  return join(root, newest, 'bin');
}

async function systemUser(name: string): Promise<{ uid: number; gid: number }> {
  const passwd = await readFile('/etc/passwd', 'utf8');
  const fields = passwd
    .split('\n')
    .find((line) => line.startsWith(`${name}:`))
    ?.split(':');
  if (!fields?.[2] || !fields[3]) throw new Error(`no system user ${name}; run scripts/install-tools.sh apt`);
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}
