/**
 * The source of a gradkit worker thread, as a string (Node runs it with `eval: true`, browsers from a Blob URL),
 * and the layout of the small shared control block through which the calling thread hands it calls.
 *
 * Protocol. Messages carry only what cannot go through shared memory: `init` (the control block), `module`
 * (a compiled WebAssembly.Module under a numeric id), `memory` (a shared WebAssembly.Memory under a numeric id)
 * and `wake`. A call is written into the control block (module id, memory id, arguments), then `SEQ` is
 * incremented. A worker that has just run a call stays "hot" for {@link HOT_MS}, blocked in `Atomics.wait` on
 * `SEQ`, so back-to-back calls cost a notify; an idle worker waits in its event loop and is sent `wake`. When a
 * call is done the worker writes `STATUS` (and the error text) and then `DONE = SEQ`, and notifies `DONE`.
 * A worker that lacks the module or memory of a call answers `NEED` and goes back to its event loop, where the
 * caller's `module` / `memory` messages reach it.
 */

/** Int32 slots of the control block. */
export const CTRL = {
  /** Incremented by the caller for each call (and to wake a worker to stop). */
  SEQ: 0,
  /** Set by the worker to the `SEQ` of the call it has finished. */
  DONE: 1,
  /** The outcome of the last finished call: {@link STATUS}. */
  STATUS: 2,
  /** The worker's state: {@link STATE}. */
  STATE: 3,
  /** The id of the call's module. */
  MODULE: 4,
  /** The id of the call's memory. */
  MEMORY: 5,
  /** How many arguments the call has. */
  NARGS: 6,
  /** Non-zero: the worker leaves its wait loop for good. */
  STOP: 7,
  /** Bytes of UTF-8 error text after an error. */
  ERRLEN: 8,
} as const;

/** Values of `STATUS`. */
export const STATUS = { OK: 0, ERROR: 1, NEED: 2 } as const;

/** Values of `STATE`: booting (not yet initialised), idle in its event loop, hot (waiting on `SEQ`). */
export const STATE = { BOOT: 0, IDLE: 1, HOT: 2 } as const;

/** The most arguments one call may have. */
export const MAX_ARGS = 16;

/** Byte offset of the float64 arguments in a control block. */
export const ARGS_OFFSET = 64;

/** Byte offset and length of the UTF-8 error text in a control block. */
export const TEXT_OFFSET = ARGS_OFFSET + 8 * MAX_ARGS;

/** Bytes of one worker's control block (a SharedArrayBuffer of its own, so workers never share a cache line). */
export const CTRL_BYTES = 1024;

/** The most bytes of error text a worker reports. */
export const TEXT_BYTES = CTRL_BYTES - TEXT_OFFSET;

/** How long a worker stays blocked on `SEQ` after a call before it goes back to its event loop (ms). */
export const HOT_MS = 50;

/**
 * Per worker: the most modules it keeps (compiled code is shared with the calling thread's copy, so each entry
 * is small), the most memories and the most instances.
 */
export const WORKER_MODULE_CAPACITY = 64;
/** The most memories a worker keeps (the runtime has one; tests make a few). */
export const WORKER_MEMORY_CAPACITY = 4;
/** The most instances (module × memory) a worker keeps. */
export const WORKER_INSTANCE_CAPACITY = 64;

/** The worker's JavaScript (no imports: it must run from a string). */
export const WORKER_SOURCE = `'use strict';
const C = ${JSON.stringify(CTRL)};
const S = ${JSON.stringify(STATUS)};
const ST = ${JSON.stringify(STATE)};
const TEXT_OFFSET = ${TEXT_OFFSET}, TEXT_BYTES = ${TEXT_BYTES}, ARGS_OFFSET = ${ARGS_OFFSET}, MAX_ARGS = ${MAX_ARGS};
const HOT_MS = ${HOT_MS};
const node = typeof process === 'object' && process !== null && typeof process.getBuiltinModule === 'function'
  ? process.getBuiltinModule('node:worker_threads') : null;
let h = null, args = null, text = null, handled = 0;
const modules = new Map(), memories = new Map(), instances = new Map();
function touch(map, key) {
  const v = map.get(key);
  if (v !== undefined) { map.delete(key); map.set(key, v); }
  return v;
}
function remember(map, key, value, capacity) {
  map.delete(key);
  map.set(key, value);
  if (map.size > capacity) map.delete(map.keys().next().value);
}
function describe(e) {
  try { return e instanceof Error ? e.name + ': ' + e.message : String(e); } catch { return 'unknown error'; }
}
function fail(message) {
  const bytes = new TextEncoder().encode(message);
  const n = Math.min(bytes.length, TEXT_BYTES);
  text.set(bytes.subarray(0, n));
  Atomics.store(h, C.ERRLEN, n);
  Atomics.store(h, C.STATUS, S.ERROR);
}
function runCall() {
  Atomics.store(h, C.STATUS, S.OK);
  const mid = Atomics.load(h, C.MODULE), gid = Atomics.load(h, C.MEMORY);
  const module = touch(modules, mid), memory = touch(memories, gid);
  const key = mid + ':' + gid;
  let instance = touch(instances, key);
  if (instance === undefined) {
    if (module === undefined || memory === undefined) { Atomics.store(h, C.STATUS, S.NEED); return; }
    try {
      instance = new WebAssembly.Instance(module, { m: { mem: memory } });
    } catch (e) { fail('instantiating the module: ' + describe(e)); return; }
    remember(instances, key, instance, ${WORKER_INSTANCE_CAPACITY});
  }
  const n = Math.min(Atomics.load(h, C.NARGS), MAX_ARGS);
  const a = new Array(n);
  for (let i = 0; i < n; i++) a[i] = args[i];
  try {
    const run = instance.exports.run;
    if (typeof run !== 'function') { fail('the module exports no function run'); return; }
    run(...a);
  } catch (e) { fail(describe(e)); }
}
function hot() {
  for (;;) {
    Atomics.store(h, C.STATE, ST.HOT);
    for (;;) {
      if (Atomics.load(h, C.STOP) !== 0) return;
      const seq = Atomics.load(h, C.SEQ);
      if (seq !== handled) {
        handled = seq;
        runCall();
        const need = Atomics.load(h, C.STATUS) === S.NEED;
        if (need) Atomics.store(h, C.STATE, ST.IDLE);
        Atomics.store(h, C.DONE, seq);
        Atomics.notify(h, C.DONE);
        if (need) return;
        continue;
      }
      if (Atomics.wait(h, C.SEQ, seq, HOT_MS) === 'timed-out') break;
    }
    Atomics.store(h, C.STATE, ST.IDLE);
    if (Atomics.load(h, C.SEQ) === handled || Atomics.load(h, C.STOP) !== 0) return;
  }
}
function onMessage(m) {
  if (m === null || typeof m !== 'object') return;
  switch (m.kind) {
    case 'init':
      h = new Int32Array(m.ctrl);
      args = new Float64Array(m.ctrl, ARGS_OFFSET, MAX_ARGS);
      text = new Uint8Array(m.ctrl, TEXT_OFFSET, TEXT_BYTES);
      Atomics.store(h, C.STATE, ST.IDLE);
      Atomics.notify(h, C.STATE);
      return;
    case 'module':
      remember(modules, m.id, m.module, ${WORKER_MODULE_CAPACITY});
      return;
    case 'memory':
      remember(memories, m.id, m.memory, ${WORKER_MEMORY_CAPACITY});
      return;
    case 'wake':
      if (h !== null) hot();
      return;
  }
}
if (node !== null && node.parentPort !== null) node.parentPort.on('message', onMessage);
else self.onmessage = (e) => onMessage(e.data);
`;
