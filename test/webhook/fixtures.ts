import { createServer, type Socket } from 'node:net';
import { createRegistryClient } from '../../src/oci/index.ts';
import { parsePolicyDocuments, type ClusterImagePolicy } from '../../src/policy/index.ts';
import type { TrustMaterial } from '../../src/verify/index.ts';
import { RegistryAccess } from '../../src/webhook/index.ts';

/** What the webhook's unit tests share: no trust, policies from YAML, a registry that hangs. */

export const NO_TRUST: TrustMaterial = {
  certificateAuthorities: [],
  timestampAuthorities: [],
  tlogs: [],
  ctlogs: [],
};

/** The ClusterImagePolicies of a YAML stream. */
export function clusterImagePolicies(yaml: string): ClusterImagePolicy[] {
  return parsePolicyDocuments(yaml, 'test policies').filter(
    (each): each is ClusterImagePolicy => each.kind === 'ClusterImagePolicy',
  );
}

/**
 * A TCP server that accepts connections and never answers (a registry that hangs), and registry
 * access without retries.
 */
export async function hangingRegistry(): Promise<{
  host: string;
  access: RegistryAccess;
  close(): Promise<void>;
}> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const access = new RegistryAccess({
    createClient: (credentials) => createRegistryClient({ credentials, retries: 0 }),
  });
  return {
    host: `127.0.0.1:${(server.address() as { port: number }).port}`,
    access,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
      await access.close();
    },
  };
}
