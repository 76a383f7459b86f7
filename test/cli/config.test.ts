import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CliError } from '../../src/cli/errors.ts';
import { DEFAULT_PORT, resolveServerConfig } from '../../src/cli/config.ts';

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
});
