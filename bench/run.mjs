// npm run bench [-- --quick] [-- --only C1,P2,lenet,cifar] [-- --tiny] [-- --out FILE]
//
// Times wasm-cnn's public API (dist/, as users get it) on each backend beside TensorFlow.js's wasm
// and cpu backends, all in this one process, on the workloads of issue 3, and two models' training
// steps (LeNet-5 of issue 4 and a CIFAR-sized CNN) beside PyTorch too. Prints the tables and writes them with the machine's description to
// bench/RESULTS.md (a full run) or to FILE / a temporary file (any partial run).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SETTINGS, prepareGroup, runRound, groupResults } from './timing.mjs';
import { CONV_WORKLOADS, POOL_WORKLOADS, tiny, convInputs, poolInputs, convFlops } from './workloads.mjs';
import { OUR_BACKENDS, TURN_ORDER, OPS, prepareOurs, prepareTf, loadTf, failure } from './contenders.mjs';
import { compareToReference } from './check.mjs';
import { MODELS, modelSuite } from './models.mjs';
import { renderReport } from './report.mjs';
import { loadProbe } from './probe.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    tiny: { type: 'boolean', default: false },
    only: { type: 'string' },
    out: { type: 'string' },
  },
});
const settings = args.quick ? SETTINGS.quick : SETTINGS.full;
const only = args.only ? new Set(args.only.split(',').map((s) => s.trim().toUpperCase())) : null;
const selected = (id) => !only || only.has(id.toUpperCase());
const partial = args.quick || args.tiny || only !== null;
const log = (line) => process.stderr.write(`${line}\n`);

const measuredRevision = revision();
const api = await import('../dist/index.js').catch((e) => ({ loadError: `cannot import dist/index.js: ${e.message}` }));

/** Why each of our backends cannot run here (absent when it can). */
const ourUnavailable = {};
for (const name of OUR_BACKENDS) {
  if (api.loadError) {
    ourUnavailable[name] = api.loadError;
    continue;
  }
  try {
    await api.init({ backend: name });
    if (api.backendName() !== name) throw new Error(`init({ backend: '${name}' }) gave ${api.backendName()}`);
  } catch (e) {
    ourUnavailable[name] = e.message;
  }
}

const { tf, info: tfInfo } = await loadTf();
const probe = await loadProbe(path.join(here, '..', 'build', 'simd.wasm'));
if (probe.error) log(probe.error);

/**
 * Prepares one contender on one op: a table cell when it cannot run, else a contender for the
 * rounds (timing.mjs) whose `enter` selects its backend, with `cell(measured)` to make its table cell.
 */
async function prepareContender(key, op, w, inputs) {
  let prepared;
  let select;
  try {
    if (key.startsWith('tf-')) {
      const backend = key.slice(3);
      if (backend === 'wasm' && tfInfo.wasmError) return { status: 'unavailable', message: tfInfo.wasmError };
      select = () => tf.setBackend(backend);
      await select();
      prepared = prepareTf(tf, op, w, inputs);
    } else {
      if (ourUnavailable[key]) return { status: 'unavailable', message: ourUnavailable[key] };
      select = () => api.init({ backend: key });
      await select();
      prepared = prepareOurs(api, op, w, inputs);
    }
  } catch (e) {
    return { status: 'missing', message: e.message };
  }
  let first;
  // TensorFlow.js tensors the calls leave behind, counted around every stretch of calls, untimed.
  const count = () => (key.startsWith('tf-') ? tf.memory().numTensors : 0);
  let leaked = 0;
  let before = 0;
  return {
    name: `${w.id} ${op} ${key}`,
    fn: () => {
      const r = prepared.run();
      if (first === undefined) first = r;
    },
    enter: async () => {
      await select();
      before = count();
    },
    leave: () => {
      leaked += count() - before;
    },
    cell: (m) => {
      prepared.dispose?.();
      if (m.error) return failure(m.error);
      const cell = { status: 'ok', ...m, output: prepared.result(first), checkAgainst: prepared.checkAgainst };
      if (leaked !== 0) cell.note = `${leaked} TensorFlow.js tensors leaked`;
      return cell;
    },
  };
}

/** The reference answer for a check, from the 'js' backend (the reference kernels). */
function referenceFor(row, cells, semantics, w, inputs) {
  if (semantics !== 'excludePad') return cells.js?.status === 'ok' ? cells.js.output : undefined;
  if (ourUnavailable.js) return undefined;
  row.excludePadRef ??= (async () => {
    await api.init({ backend: 'js' });
    return api.avgPool2d(inputs.x, { kernelSize: w.k, stride: w.stride, padding: w.pad, countIncludePad: false }).data;
  })();
  return row.excludePadRef;
}

// Every op of every workload, then each model's training step, is a suite: its contenders are prepared and
// warmed up in turn, then the rounds visit every suite (timing.mjs), then each suite's results are
// checked and tabled.
const suites = [];
const rows = [];
for (const base of [...CONV_WORKLOADS, ...POOL_WORKLOADS]) {
  if (!selected(base.id)) continue;
  const w = args.tiny ? tiny(base) : base;
  const isConv = 'Cin' in w;
  const inputs = isConv ? convInputs(w) : poolInputs(w);
  for (const op of OPS[isConv ? 'conv' : w.kind]) {
    const row = { workload: w, op, flops: isConv ? convFlops(w) : null, cells: {} };
    for (const key of TURN_ORDER) row.cells[key] = await prepareContender(key, op, w, inputs);
    const contenders = TURN_ORDER.filter((key) => row.cells[key].fn);
    suites.push({
      name: `${w.id} ${op}`,
      contenders: contenders.map((key) => row.cells[key]),
      finish: async (measured) => {
        contenders.forEach((key, i) => { row.cells[key] = row.cells[key].cell(measured[i]); });
        for (const [key, cell] of Object.entries(row.cells)) {
          log(`${w.id} ${op} ${key}: ${cell.status === 'ok' ? `${cell.medianMs.toFixed(3)} ms (${cell.samples.length} samples)` : `${cell.status}: ${cell.message}`}`);
        }
        for (const [key, cell] of Object.entries(row.cells)) {
          if (cell.status !== 'ok') continue;
          if (key === 'js') cell.check = { verdict: 'oracle' };
          else cell.check = compareToReference(cell.output, await referenceFor(row, row.cells, cell.checkAgainst, w, inputs));
        }
        for (const cell of Object.values(row.cells)) delete cell.output;
        delete row.excludePadRef;
        rows.push(row);
      },
    });
  }
}

const models = [];
const torchTimers = [];
for (const spec of MODELS) {
  if (!selected(spec.id)) continue;
  const suite = await modelSuite(spec, { api, ourUnavailable, tf, tfInfo, settings, log });
  torchTimers.push(suite.timeTorch);
  suites.push({ name: spec.title, contenders: suite.contenders, finish: (measured) => { models.push(suite.finish(measured)); } });
}
const timeTorch = () => { for (const time of torchTimers) time(); };

for (const [i, suite] of suites.entries()) {
  log(`warming up ${suite.name} (${i + 1} of ${suites.length})`);
  suite.group = await prepareGroup(suite.contenders, settings, probe);
}
timeTorch();
for (let round = 0; round < settings.rounds; round++) {
  for (const suite of suites) {
    log(`round ${round + 1} of ${settings.rounds}: ${suite.name}`);
    await runRound(suite.group, round);
  }
}
timeTorch();
for (const suite of suites) await suite.finish(groupResults(suite.group));

/** The commit measured, and whether the built sources differed from it: taken when the run
 *  starts, just after `npm run bench` built dist/, not when it ends (an edit made during the run is
 *  not what was measured). */
function revision() {
  try {
    const git = (a) => execFileSync('git', a, { cwd: here, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = git(['status', '--porcelain', '--', '../assembly', '../src']);
    return `${git(['rev-parse', '--short', 'HEAD'])}${dirty ? ' with uncommitted changes in assembly/ or src/' : ''}`;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
const machine = {
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cores: os.cpus().length,
  os: `${os.type()} ${os.release()} ${os.arch()}`,
  node: process.version,
  date: new Date().toISOString(),
  command,
  execArgv: process.execArgv.join(' '),
  revision: measuredRevision,
};
const { terminal, markdown } = renderReport({ rows, models, machine, tfInfo, ourUnavailable, settings, args, partial, probe });
process.stdout.write(`${terminal}\n`);

const out = args.out ?? (partial ? path.join(os.tmpdir(), 'wasm-cnn-bench-RESULTS.md') : path.join(here, 'RESULTS.md'));
fs.writeFileSync(out, markdown);
log(`wrote ${out}${partial && !args.out ? ' (a partial run never overwrites bench/RESULTS.md)' : ''}`);
