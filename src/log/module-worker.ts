import { Worker } from 'node:worker_threads';

/**
 * Starts a worker thread running the module `name` (without extension) next to `base`, a module URL:
 * the `.js` file once compiled, the `.ts` file under tsx. Node 20 workers do not get the loader hooks
 * that `--import tsx` registered, so under tsx the worker registers tsx itself before importing.
 */
export function startModuleWorker(base: string, name: string, workerData: unknown): Worker {
  const here = new URL(base);
  if (!here.pathname.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, here), { workerData });
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const entry = JSON.stringify(new URL(`./${name}.ts`, here).href);
  return new Worker(`import(${tsx}).then((tsx) => { tsx.register(); return import(${entry}); });`, {
    eval: true,
    workerData,
  });
}
