import { spawn } from 'node:child_process';
import { parseJson } from '../../core/index.ts';
import { OciError } from '../errors.ts';
import { ANONYMOUS, type RegistryCredential } from './credentials.ts';

/**
 * docker-credential-helpers protocol, `get`: run `docker-credential-<name> get`, write the server URL
 * to its stdin, read `{"ServerURL","Username","Secret"}` from its stdout. A helper that has nothing
 * for the server exits non-zero printing "credentials not found"; that is not an error.
 */

/** Helper names are a suffix of a program name: nothing that could walk a path or reach a shell. */
const HELPER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const MAX_OUTPUT_BYTES = 64 * 1024;
const NOT_FOUND = /credentials not found/i;
/** docker/cli: a helper that answers this username gives an identity token as the secret. */
const TOKEN_USERNAME = '<token>';

export interface CredentialHelperOptions {
  /** Kill the helper after this many milliseconds. Default 10,000. */
  readonly timeoutMs?: number;
}

/** Asks helper `name` for `serverUrl`'s credential; ANONYMOUS when it has none. Throws OCI_CREDENTIALS_INVALID. */
export async function runCredentialHelper(
  name: string,
  serverUrl: string,
  options: CredentialHelperOptions = {},
): Promise<RegistryCredential> {
  const fail = (problem: string, cause?: unknown): never => {
    throw new OciError(
      'OCI_CREDENTIALS_INVALID',
      `credential helper docker-credential-${name} for ${serverUrl}: ${problem}`,
      cause === undefined ? undefined : { cause },
    );
  };
  if (!HELPER_NAME.test(name)) {
    return fail(
      `expected a helper name of letters, digits, '.', '_' or '-', received ${JSON.stringify(name)}`,
    );
  }
  const { code, stdout, stderr } = await execute(
    `docker-credential-${name}`,
    serverUrl,
    options.timeoutMs ?? 10_000,
  );
  if (code !== 0) {
    if (NOT_FOUND.test(stdout) || NOT_FOUND.test(stderr)) return ANONYMOUS;
    return fail(`exited ${code}: ${(stderr || stdout).trim().slice(0, 200)}`);
  }
  let answer: unknown;
  try {
    answer = parseJson(stdout, { field: 'helper output' });
  } catch (cause) {
    return fail('expected JSON on stdout', cause);
  }
  if (typeof answer !== 'object' || answer === null) return fail('expected a JSON object on stdout');
  const { Username: username, Secret: secret } = answer as Record<string, unknown>;
  if (typeof secret !== 'string' || typeof username !== 'string') {
    return fail('expected string fields Username and Secret');
  }
  if (secret === '') return ANONYMOUS;
  if (username === TOKEN_USERNAME) return { kind: 'identity-token', token: secret };
  return { kind: 'basic', username, password: secret };
}

interface Execution {
  code: number | string;
  stdout: string;
  stderr: string;
}

function execute(command: string, input: string, timeoutMs: number): Promise<Execution> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, ['get'], { stdio: ['pipe', 'pipe', 'pipe'], timeout: timeoutMs });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_OUTPUT_BYTES) child.kill('SIGKILL');
      else into.push(chunk);
    };
    child.stdout.on('data', collect(out));
    child.stderr.on('data', collect(err));
    child.stdin.on('error', () => undefined); // a helper that exits without reading stdin
    child.on('error', (error) =>
      reject(
        new OciError(
          'OCI_CREDENTIALS_INVALID',
          `credential helper ${command} could not be run: ${error.message}`,
          {
            cause: error,
          },
        ),
      ),
    );
    child.on('close', (code, signal) => {
      if (signal === 'SIGTERM' || signal === 'SIGKILL') {
        reject(
          new OciError(
            'OCI_CREDENTIALS_INVALID',
            size > MAX_OUTPUT_BYTES
              ? `credential helper ${command}: output larger than ${MAX_OUTPUT_BYTES} bytes`
              : `credential helper ${command}: no answer within ${timeoutMs} ms`,
          ),
        );
        return;
      }
      resolve({
        code: code ?? signal ?? 'unknown',
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    child.stdin.end(input);
  });
}
