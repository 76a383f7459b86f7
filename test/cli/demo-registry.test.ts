import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CliError } from '../../src/cli/errors.ts';
import { planRegistry } from '../../src/cli/demo-registry.ts';

/** Which registry `sigil demo` uses, decided before anything starts. */
describe('planRegistry', () => {
  describe('when there is no --registry and no Debian registry binary', () => {
    it('fails with CLI_OPTION_INVALID saying to install docker-registry or pass --registry', async () => {
      await assert.rejects(planRegistry(undefined, '/nonexistent/docker-registry'), (error: unknown) => {
        assert.ok(error instanceof CliError);
        assert.equal(error.code, 'CLI_OPTION_INVALID');
        assert.match(error.message, /apt-get install docker-registry/);
        assert.match(error.message, /--registry HOST:PORT/);
        return true;
      });
    });
  });

  describe('when --registry is given', () => {
    it('uses it as written, without starting anything', async () => {
      const planned = await planRegistry('127.0.0.1:5000', '/nonexistent/docker-registry');
      assert.equal(planned.host, '127.0.0.1:5000');
      assert.equal(planned.started, false);
    });

    for (const given of ['http://127.0.0.1:5000', '127.0.0.1:5000/v2', 'Registry..example:5000', '']) {
      it(`refuses ${JSON.stringify(given)} with CLI_OPTION_INVALID`, async () => {
        await assert.rejects(planRegistry(given), (error: unknown) => {
          assert.ok(error instanceof CliError);
          assert.equal(error.code, 'CLI_OPTION_INVALID');
          assert.match(error.message, /^--registry: expected HOST:PORT/);
          return true;
        });
      });
    }
  });

  describe('when the Debian registry binary is there', () => {
    it('picks a free loopback port and defers starting it to step 2', async () => {
      const planned = await planRegistry(undefined, process.execPath);
      assert.match(planned.host, /^127\.0\.0\.1:\d+$/);
      assert.equal(planned.started, true);
      assert.match(planned.description, /^starting a registry \(/);
    });
  });
});
