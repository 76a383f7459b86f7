import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { describe, it } from 'node:test';
import { CliError } from '../../src/cli/errors.ts';
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_PORT, resolveServerConfig } from '../../src/cli/config.ts';

describe('resolveServerConfig', () => {
  it('defaults the state folder to $XDG_DATA_HOME/sigil, then ~/.local/share/sigil', () => {
    assert.equal(resolveServerConfig({}, { XDG_DATA_HOME: '/data' }).stateDir, '/data/sigil');
    assert.equal(resolveServerConfig({}, { HOME: '/home/ada' }).stateDir, '/home/ada/.local/share/sigil');
    // XDG says a relative XDG_DATA_HOME is invalid and must be ignored.
    assert.equal(
      resolveServerConfig({}, { HOME: '/home/ada', XDG_DATA_HOME: 'rel' }).stateDir,
      '/home/ada/.local/share/sigil',
    );
  });

  it('prefers the flag over SIGIL_STATE over the default', () => {
    assert.equal(resolveServerConfig({}, { SIGIL_STATE: '/env/state', HOME: '/h' }).stateDir, '/env/state');
    assert.equal(
      resolveServerConfig({ state: '/flag/state' }, { SIGIL_STATE: '/env/state' }).stateDir,
      '/flag/state',
    );
  });

  it('defaults to 127.0.0.1 on the default port, and takes SIGIL_PORT and SIGIL_HOST', () => {
    const config = resolveServerConfig({}, { HOME: '/h' });
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.port, DEFAULT_PORT);
    assert.equal(resolveServerConfig({}, { SIGIL_PORT: '0', SIGIL_HOST: '::1' }).port, 0);
    assert.equal(resolveServerConfig({ port: '9000' }, { SIGIL_PORT: '0' }).port, 9000);
    assert.ok(Object.isFrozen(config));
  });

  for (const [flags, env, source] of [
    [{ port: '70000' }, {}, '--port'],
    [{ port: '80a' }, {}, '--port'],
    [{ port: '-1' }, {}, '--port'],
    [{}, { SIGIL_PORT: 'http' }, 'SIGIL_PORT'],
  ] as const) {
    it(`rejects port ${JSON.stringify(flags.port ?? env.SIGIL_PORT)} naming ${source}`, () => {
      assert.throws(
        () => resolveServerConfig(flags, env),
        (error: unknown) =>
          error instanceof CliError &&
          error.code === 'CLI_OPTION_INVALID' &&
          error.message.startsWith(`${source}: expected a port`),
      );
    });
  }

  it('rejects an unknown SIGIL_LOG_LEVEL listing the valid ones', () => {
    assert.throws(
      () => resolveServerConfig({}, { SIGIL_LOG_LEVEL: 'loud' }),
      /expected one of trace, debug, info/,
    );
  });

  it('takes the body limit and admission workers from flags, then SIGIL_ variables, then defaults', () => {
    const defaults = resolveServerConfig({}, { HOME: '/h' });
    assert.equal(defaults.maxBodyBytes, DEFAULT_MAX_BODY_BYTES);
    assert.equal(defaults.admissionWorkers, Math.max(1, availableParallelism() - 1));
    const fromEnv = resolveServerConfig({}, { SIGIL_MAX_BODY_BYTES: '4096', SIGIL_ADMISSION_WORKERS: '0' });
    assert.equal(fromEnv.maxBodyBytes, 4096);
    assert.equal(fromEnv.admissionWorkers, 0);
    const fromFlags = resolveServerConfig(
      { maxBodyBytes: '65536', admissionWorkers: '3' },
      { SIGIL_MAX_BODY_BYTES: '4096', SIGIL_ADMISSION_WORKERS: '0' },
    );
    assert.equal(fromFlags.maxBodyBytes, 65536);
    assert.equal(fromFlags.admissionWorkers, 3);
  });

  for (const [flags, env, message] of [
    [{ maxBodyBytes: '10' }, {}, '--max-body-bytes: expected a whole number from 1024, received "10"'],
    [{ maxBodyBytes: '1e6' }, {}, '--max-body-bytes: expected a whole number from 1024, received "1e6"'],
    [{}, { SIGIL_ADMISSION_WORKERS: '-1' }, 'SIGIL_ADMISSION_WORKERS: expected a whole number from 0 to 64'],
    [{ admissionWorkers: '65' }, {}, '--admission-workers: expected a whole number from 0 to 64'],
  ] as const) {
    it(`rejects ${JSON.stringify({ ...flags, ...env })} naming the flag or variable`, () => {
      assert.throws(
        () => resolveServerConfig(flags, env),
        (error: unknown) =>
          error instanceof CliError &&
          error.code === 'CLI_OPTION_INVALID' &&
          error.message.startsWith(message),
      );
    });
  }
});
