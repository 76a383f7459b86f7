// Preloaded with `node --require` before anything else runs (npm start, npm run sigil, the tests'
// `sigil up`): sizes libuv's thread pool to the machine's CPUs unless UV_THREADPOOL_SIZE is already set.
//
// The pool runs the CA's signatures (an ECDSA P-384 one takes ~1 ms of CPU), fdatasync and key
// derivation. libuv's default of 4 threads on a 2-CPU machine makes signatures fight the event loop
// for the cores: `npm run bench:ca` measured 490–521 certificates/s with 4 threads, 568–579 with 2.
// libuv reads the variable once, when the pool first starts, and an ES module is loaded through the
// pool, so this has to be CommonJS, required before the first import.
'use strict';

if (!process.env.UV_THREADPOOL_SIZE) {
  process.env.UV_THREADPOOL_SIZE = String(Math.max(2, require('node:os').availableParallelism()));
}
