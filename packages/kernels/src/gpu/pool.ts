import type { WebGpuBufferLike, WebGpuDeviceLike } from './webgpu.js';

/** How many idle buffers a {@link BufferPool} keeps for reuse; more are destroyed when released. */
export const BUFFER_POOL_CAPACITY = 8;

/**
 * Device buffers of one kernel, reused across calls. A call takes its buffers with `acquire` (so calls in
 * flight at once never share one) and gives them back with `release` right after the command buffer that
 * uses them is submitted: the queue runs a later call's `writeBuffer` after the earlier submission, so the
 * earlier dispatch still sees its own data. At most {@link BUFFER_POOL_CAPACITY} idle buffers are kept; the
 * rest are destroyed. After `destroy()`, released buffers are destroyed at once.
 */
export class BufferPool {
  private readonly idle: Array<{ buffer: WebGpuBufferLike; usage: number }> = [];
  /** The buffers acquired and not yet released, with their usage. */
  private readonly lent = new Map<WebGpuBufferLike, number>();
  private closed = false;

  /** A buffer of exactly `size` bytes and `usage`: an idle one when there is one, else a new one. */
  acquire(device: WebGpuDeviceLike, size: number, usage: number): WebGpuBufferLike {
    const i = this.idle.findIndex((e) => e.buffer.size === size && e.usage === usage);
    const buffer = i >= 0 ? this.idle.splice(i, 1)[0]!.buffer : device.createBuffer({ size, usage });
    this.lent.set(buffer, usage);
    return buffer;
  }

  /** Gives buffers back (once the work that uses them is submitted). */
  release(buffers: readonly WebGpuBufferLike[]): void {
    for (const buffer of buffers) {
      const usage = this.lent.get(buffer);
      this.lent.delete(buffer);
      if (this.closed || usage === undefined) {
        buffer.destroy();
        continue;
      }
      this.idle.push({ buffer, usage });
      if (this.idle.length > BUFFER_POOL_CAPACITY) this.idle.shift()!.buffer.destroy();
    }
  }

  /** The number of idle buffers held. */
  get size(): number {
    return this.idle.length;
  }

  /** Destroys the idle buffers; buffers released later are destroyed at once. */
  destroy(): void {
    this.closed = true;
    for (const e of this.idle) e.buffer.destroy();
    this.idle.length = 0;
  }
}
