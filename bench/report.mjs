// Turns the measurements into the terminal tables and bench/RESULTS.md. Nothing here measures or
// estimates: a cell without a measurement says why it has none.
import { LABELS, TURN_ORDER } from './contenders.mjs';
import { RELATIVE_TOLERANCE } from './check.mjs';
import { PROBE_FLOPS } from './probe.mjs';

const ONE_CALL = 'one call, no samples: slower than the sampling budget (0 s with --quick, 6 s otherwise)';

const COLUMNS = ['relaxed-simd', 'simd', 'scalar', 'js', 'tf-wasm', 'tf-cpu'];
const OURS = ['relaxed-simd', 'simd', 'scalar'];
const PEERS = ['js', 'tf-wasm', 'tf-cpu'];

function fmtMs(ms) {
  if (ms < 1) return ms.toFixed(3);
  if (ms < 10) return ms.toFixed(2);
  if (ms < 100) return ms.toFixed(1);
  return ms.toFixed(0);
}

function fmtRatio(r) {
  return `×${r < 10 ? r.toFixed(2) : r < 100 ? r.toFixed(1) : r.toFixed(0)}`;
}

function gflops(row, cell) {
  return row.flops / (cell.medianMs * 1e6);
}

/** Collects footnotes so that each distinct message is printed once and cited by number. */
class Notes {
  list = [];
  cite(text) {
    let i = this.list.indexOf(text);
    if (i < 0) i = this.list.push(text) - 1;
    return `[${i + 1}]`;
  }
}

function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => (i < 2 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  const terminal = [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
  const align = header.map((_, i) => (i < 2 ? '---' : '---:'));
  const md = [header, align, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
  return { terminal, md };
}

function timeCell(row, key, notes) {
  const cell = row.cells[key];
  if (!cell) return 'not run';
  if (cell.status !== 'ok') {
    const word = { missing: 'missing', unavailable: 'n/a', error: 'error' }[cell.status];
    return `${word} ${notes.cite(`${LABELS[key]}: ${cell.message}`)}`;
  }
  let text = fmtMs(cell.medianMs);
  if (cell.cold) text += ` ${notes.cite(ONE_CALL)}`;
  else if (cell.samples.length < 3) text += ` (n=${cell.samples.length})`;
  if (cell.check?.verdict === 'wrong') text += ` WRONG ${notes.cite(`${LABELS[key]} ${row.workload.id} ${row.op}: ${cell.check.detail}`)}`;
  if (cell.check?.verdict === 'unchecked') text += ` unchecked ${notes.cite(cell.check.detail)}`;
  if (cell.note) text += ` ${notes.cite(`${LABELS[key]} ${row.workload.id} ${row.op}: ${cell.note}`)}`;
  return text;
}

function ratio(row, ours, peer) {
  const a = row.cells[ours];
  const b = row.cells[peer];
  if (a?.status !== 'ok' || b?.status !== 'ok') return '—';
  return fmtRatio(b.medianMs / a.medianMs);
}

/** The machine's speed around each contender's samples, from the probe's gauges (timing.mjs):
 *  `speed(cell)` is the fastest gauge median of any contender in this run divided by the cell's
 *  (1.00: the machine as fast as it went in this run), `best` that fastest median in ms. */
function machineSpeed(rows, models) {
  const seen = [...rows.flatMap((r) => Object.values(r.cells)), ...models.flatMap((m) => m.results)]
    .map((c) => c?.probeMs).filter(Number.isFinite);
  const best = seen.length ? Math.min(...seen) : NaN;
  return { best, speed: (cell) => (Number.isFinite(cell?.probeMs) ? (best / cell.probeMs).toFixed(2) : '—') };
}

/** The targets of issue 3, each judged on this run's numbers only, with the machine's speed then. */
function targets(rows, speed) {
  const find = (id, op) => rows.find((r) => r.workload.id === id && r.op === op);
  const out = [];
  const speedup = (id, op, ours, peer, goal) => {
    const row = find(id, op);
    if (!row) return;
    const a = row.cells[ours];
    const b = row.cells[peer];
    const what = `${id} ${op}: ${LABELS[ours]} ≥ ${goal}× ${LABELS[peer]}`;
    if (a?.status !== 'ok' || b?.status !== 'ok') {
      out.push([what, 'not measured', `${[a, b].filter((c) => c?.status !== 'ok').map((c) => c?.status ?? 'not run').join(', ')}`, '—']);
      return;
    }
    const r = b.medianMs / a.medianMs;
    out.push([what, fmtRatio(r), r >= goal ? 'met' : 'NOT met', `${speed(a)} / ${speed(b)}`]);
  };
  for (const id of ['C1', 'C2', 'C3', 'C4']) speedup(id, 'conv2d', 'simd', 'tf-wasm', 1);
  for (const id of ['C1', 'C3']) speedup(id, 'conv2d', 'relaxed-simd', 'tf-wasm', 1.25);
  for (const id of ['C1', 'C2', 'C3', 'C4']) speedup(id, 'conv2dBackwardInput', 'simd', 'tf-wasm', 8);
  for (const id of ['C1', 'C3']) {
    const row = find(id, 'conv2dBackwardFilter');
    if (!row) continue;
    const c = row.cells.simd;
    const what = `${id} conv2dBackwardFilter: simd ≥ 25 GFLOP/s`;
    if (c?.status !== 'ok') out.push([what, 'not measured', c?.status ?? 'not run', '—']);
    else out.push([what, `${gflops(row, c).toFixed(1)} GFLOP/s`, gflops(row, c) >= 25 ? 'met' : 'NOT met', speed(c)]);
  }
  for (const [id, kind] of [['P1', 'maxPool2d'], ['P2', 'avgPool2d']]) {
    speedup(id, kind, 'simd', 'tf-wasm', 1);
    speedup(id, `${kind}Backward`, 'simd', 'tf-wasm', 10);
  }
  for (const id of ['C1', 'C2', 'C3', 'C4']) {
    for (const op of ['conv2d', 'conv2dBackwardInput', 'conv2dBackwardFilter']) speedup(id, op, 'scalar', 'js', 5);
  }
  return out;
}

function modelTable(model, notes) {
  const peers = ['tf-cpu', 'torch'].map((key) => model.results.find((r) => r.key === key && r.status === 'ok')).filter(Boolean);
  const header = ['model', 'backend', 'median ms / step', 'images / s', 'samples', ...peers.map((p) => `vs ${LABELS[p.key]}`)];
  const rows = model.results.map((r) => {
    if (r.status !== 'ok') {
      const word = r.status === 'missing' ? 'cannot train' : r.status === 'unavailable' ? 'n/a' : 'error';
      return [r.model, LABELS[r.key], `${word} ${notes.cite(`${model.title}: ${r.message}`)}`, '—', '—', ...peers.map(() => '—')];
    }
    const vs = peers.map((p) => (p.key !== r.key && !PEER_KEYS.has(r.key) ? fmtRatio(p.medianMs / r.medianMs) : '—'));
    const ms = fmtMs(r.medianMs) + (r.cold ? ` ${notes.cite(ONE_CALL)}` : '');
    return [r.model, LABELS[r.key], ms, Math.round((model.batch * 1000) / r.medianMs).toLocaleString('en-US'), r.samples.length, ...vs];
  });
  return table(header, rows);
}

/** Rows that are peers themselves get no speed-up against a peer. */
const PEER_KEYS = new Set(['tf-wasm', 'tf-cpu', 'torch']);

export function renderReport({ rows, models, machine, tfInfo, ourUnavailable, settings, args, partial, probe }) {
  const notes = new Notes();
  const label = (row) => [row.workload.id, row.op];
  const { best, speed } = machineSpeed(rows, models);
  const times = table(['id', 'op', ...COLUMNS.map((k) => LABELS[k])], rows.map((r) => [...label(r), ...COLUMNS.map((k) => timeCell(r, k, notes))]));
  const speeds = table(['id', 'op', ...COLUMNS.map((k) => LABELS[k])], rows.map((r) => [...label(r), ...COLUMNS.map((k) => speed(r.cells[k]))]));
  const convRows = rows.filter((r) => r.flops !== null);
  const gf = table(
    ['id', 'op', 'GFLOP', ...COLUMNS.map((k) => LABELS[k])],
    convRows.map((r) => [...label(r), (r.flops / 1e9).toFixed(3), ...COLUMNS.map((k) => (r.cells[k]?.status === 'ok' ? gflops(r, r.cells[k]).toFixed(2) : '—'))]),
  );
  const ratios = table(
    ['id', 'op', 'ours', ...PEERS.map((p) => `vs ${LABELS[p]}`)],
    rows.flatMap((r) => OURS.map((o) => [...label(r), LABELS[o], ...PEERS.map((p) => ratio(r, o, p))])),
  );
  const goal = table(['target (issue 3)', 'measured', 'verdict', 'machine speed (ours / peer)'], targets(rows, speed));

  const tfWasm = tfInfo.wasmError
    ? `wasm backend unavailable (${tfInfo.wasmError})`
    : `wasm backend (XNNPACK; SIMD build: ${tfInfo.wasmSimd ? 'yes' : 'no'}, threads: ${tfInfo.wasmThreads})`;
  const unavailable = Object.entries(ourUnavailable).map(([k, m]) => `${k}: ${m}`);
  const mode = args.quick ? 'quick' : 'full';
  const header = [
    `- Machine: ${machine.cpu}, ${machine.cores} logical cores, ${machine.os}`,
    `- Node ${machine.node} (${machine.execArgv || 'no flags'}), one thread everywhere`,
    `- Date: ${machine.date}; wasm-cnn at ${machine.revision}`,
    `- Command: \`${machine.command}\`${partial ? ' (a partial run)' : ''}${args.tiny ? ' — TINY workloads, not those of issue 3' : ''}`,
    `- Peers: TensorFlow.js ${tfInfo.version}: ${tfWasm}; cpu backend (pure JS); \`tf.enableProdMode()\``,
    `- Timing: benchmark.js, ${mode} settings ${JSON.stringify(settings)} (seconds); every function is first called once and warmed up (V8 tiers WASM and JS up in the background); then, since this shared machine's speed changes from one second to the next and for minutes at a stretch, ${settings.rounds} rounds each visit every op and every model's training step in turn, and in each round every contender of the op takes one turn of one benchmark.js sample (at least minTime seconds of calls) right after another, in the order ${TURN_ORDER.map((k) => LABELS[k]).join(', ')} (reversed in odd rounds), so that each pair a target compares samples side by side; a contender whose samples are longer takes fewer turns, spread over the rounds, its samples adding up to about maxTime seconds (at least minSamples). The figure is the MEDIAN of a contender's benchmark.js samples (stats.sample) pooled over all rounds. Functions whose first call exceeds slowCall are sampled apart from the rounds, fewer times (n shown when under 3).`,
    ...(unavailable.length ? [`- Our backends not run: ${unavailable.join('; ')}`] : []),
    Number.isFinite(best)
      ? `- Machine probe (bench/probe.mjs): fastest gauge ${fmtMs(best)} ms (${(PROBE_FLOPS / (best * 1e6)).toFixed(1)} GFLOP/s)`
      : `- Machine probe: none${probe?.error ? ` (${probe.error})` : ''}`,
  ];
  const about = [
    'wasm-cnn columns: one call of the public functional API from `dist/index.js` (as users import it), after `init({ backend })`; its time includes copying inputs into WASM memory and the output back into a new JS tensor. `js reference` is the `\'js\'` backend: the pure-TypeScript reference kernels of `src/reference/` (float64 accumulation) behind the same API.',
    'TensorFlow.js columns: NHWC tensors made once outside the timed region (layout conversion is not timed); each timed call runs the op inside `tf.tidy`, reads the result with `dataSync()` and disposes it. Ops: `tf.conv2d` (`tf.depthwiseConv2d` for D1, D2); kernels `Conv2DBackpropInput`, `Conv2DBackpropFilter` (`DepthwiseConv2dNativeBackpropInput`, `…Filter`), `MaxPoolGrad`, `AvgPoolGrad` through `tf.engine().runKernel`; `tf.maxPool`, `tf.avgPool`. wasm-cnn\'s `maxPool2d` also returns the argmax indices; TensorFlow.js\'s `maxPool` does not.',
    `Every output is checked against the reference kernels: values off by more than ${RELATIVE_TOLERANCE} × the largest reference magnitude mark the cell WRONG. TensorFlow.js's avgPool leaves padding out of the divisor, so its forward is checked against countIncludePad: false; its AvgPoolGrad divides by the whole window and is checked against countIncludePad: true (PyTorch's default, which wasm-cnn times).`,
    'Conv FLOPs: 2·N·Cout·Hout·Wout·(Cin/groups)·kH·kW for the forward and both gradients. Speed-ups are the peer\'s median time divided by ours (×2 = twice as fast as the peer).',
    'Machine speed: this shared VM slows down for seconds to minutes at a time (load from outside it: with the probe alone running and the other vCPU idle it still slowed), which moves absolute figures and, when it strikes one contender\'s turns more than another\'s, ratios too. So every turn of every contender is framed by two gauges: the median time of a few calls of a fixed piece of work (bench/probe.mjs: a 64×256×256 matrix product in cache on the simd build). A cell\'s machine speed is the fastest gauge median of any cell in this run divided by its own: 1.00 is the machine at its fastest in this run, 0.70 means that contender ran about 30% slower than it would have then (the probe works in cache, so it may miss a slowdown of memory traffic alone). It explains figures; no verdict uses it.',
  ];

  const sections = [
    ...(rows.length ? [['Ops: median milliseconds per call', times]] : []),
    ...(convRows.length ? [['Convolutions: GFLOP/s (from the median)', gf]] : []),
    ...(rows.length ? [['Speed-ups of our builds over each peer (same run)', ratios]] : []),
    ...(rows.length ? [['Issue 3 targets, judged on this run', goal]] : []),
    ...(rows.length && Number.isFinite(best) ? [['Machine speed during each contender\'s turns', speeds]] : []),
    ...models.map((m) => [`${m.title} (batch ${m.batch}, SGD lr 0.01 momentum 0.9, cross-entropy)`, modelTable(m, notes), [
      ...m.about,
      `Machine speed during each contender's turns (as for the ops): ${m.results.filter((r) => Number.isFinite(r.probeMs)).map((r) => `${LABELS[r.key]} ${speed(r)}`).join(', ') || 'not gauged'}; PyTorch runs in a child process outside the rounds.`,
    ]]),
  ];
  const unrun = models.length ? [] : ['Models: not run (filtered out by --only).'];
  const noteLines = notes.list.map((n, i) => `[${i + 1}] ${n}`);

  const terminal = [
    'wasm-cnn benchmarks',
    ...header,
    '',
    ...sections.flatMap(([title, t, after = []]) => [title, t.terminal, '', ...after, ...(after.length ? [''] : [])]),
    ...unrun,
    ...noteLines,
  ].join('\n');
  const markdown = [
    '# wasm-cnn benchmarks',
    '',
    'Generated by `npm run bench` (bench/run.mjs); regenerate rather than edit.',
    '',
    ...header,
    '',
    ...about.flatMap((p) => [p, '']),
    ...sections.flatMap(([title, t, after = []]) => [`## ${title}`, '', t.md, '', ...after.flatMap((p) => [p, ''])]),
    ...unrun.flatMap((p) => [p, '']),
    ...(noteLines.length ? ['## Notes', '', ...noteLines.flatMap((n) => [n, ''])] : []),
  ].join('\n');
  return { terminal, markdown };
}
