/**
 * Small programs for the thread-pool tests: `run(ctrl, start, end)` over a shared memory, where `ctrl` is the
 * byte address of a control block whose first i32 is the byte address of an i32 output array.
 */
import { BLOCK, Body, I32, IF, LOOP, moduleBytes, OP } from '../src/wasm/emit.js';

/** Shared-memory limits of the test programs (pages). */
export const PAGES = { initial: 1, maximum: 64 } as const;

const I32_LOAD = 0x28;
const I32_STORE = 0x36;
const UNREACHABLE = 0x00;

/** What a program does for a call whose start is not 0 (the calling thread always gets start 0). */
export type Behaviour = 'fill' | 'trap' | 'hang';

/** The value the programs write at index i (`salt` makes distinct programs write distinct values). */
export function expected(i: number, salt = 0): number {
  return (Math.imul(Math.imul(i, i), 3) + 7 + salt) | 0;
}

/** `out[i] = i*i*3 + 7 + salt` for i in [start, end); on a call with start ≠ 0, traps or loops forever. */
export function program(behaviour: Behaviour = 'fill', salt = 0, shared = true): WebAssembly.Module {
  const b = new Body(3);
  const [ctrl, start, end] = [0, 1, 2];
  const i = b.local(I32);
  const out = b.local(I32);
  if (behaviour !== 'fill') {
    b.get(start)
      .op(OP.i32Eqz, OP.i32Eqz)
      .op(...IF);
    if (behaviour === 'trap') b.op(UNREACHABLE);
    else
      b.op(...LOOP)
        .op(OP.br, 0)
        .op(OP.end);
    b.op(OP.end);
  }
  b.get(ctrl)
    .op(I32_LOAD, ...Body.memarg(2, 0))
    .set(out);
  b.get(start).set(i);
  b.op(...BLOCK, ...LOOP);
  b.get(i).get(end).op(OP.i32GeU).op(OP.brIf, 1);
  // out + 4i
  b.get(out).get(i).i32(2).op(OP.i32Shl, OP.i32Add);
  // i*i*3 + 7 + salt
  b.get(i)
    .get(i)
    .op(OP.i32Mul)
    .i32(3)
    .op(OP.i32Mul)
    .i32(7 + salt)
    .op(OP.i32Add);
  b.op(I32_STORE, ...Body.memarg(2, 0));
  b.get(i).i32(1).op(OP.i32Add).set(i);
  b.op(OP.br, 0, OP.end, OP.end);
  const functions = [{ name: 'run', params: 3, body: b }];
  return new WebAssembly.Module(
    moduleBytes(
      functions,
      shared ? { shared: true, minimum: PAGES.initial, maximum: PAGES.maximum } : undefined,
    ),
  );
}

/** A shared memory for the programs, with the control block at byte 0 pointing at an output at byte 64. */
export function sharedMemory(): WebAssembly.Memory {
  const memory = new WebAssembly.Memory({ ...PAGES, shared: true });
  new Int32Array(memory.buffer)[0] = 64;
  return memory;
}

/** The output array of {@link sharedMemory} (`n` elements, after growing the memory if needed). */
export function output(memory: WebAssembly.Memory, n: number): Int32Array {
  const need = 64 + 4 * n;
  if (memory.buffer.byteLength < need) memory.grow(Math.ceil((need - memory.buffer.byteLength) / 65536));
  return new Int32Array(memory.buffer, 64, n);
}
