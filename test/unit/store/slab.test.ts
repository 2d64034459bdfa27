/** Slab (src/store/io.ts): a COPY batch's messages read into one buffer, reused from batch to batch. */
import { describe, it, expect } from 'vitest';
import { Slab } from '../../../src/store/io.js';

describe('Slab', () => {
  it('hands out consecutive, separate pieces of one buffer, and the same memory again after reset()', () => {
    const s = new Slab(100);
    const a = s.take(40);
    const b = s.take(60);
    expect(a.buffer).toBe(b.buffer);
    expect(b.byteOffset).toBe(a.byteOffset + 40);
    a.fill(1);
    b.fill(2);
    expect([...a].every((x) => x === 1) && [...b].every((x) => x === 2)).toBe(true);
    s.reset();
    const c = s.take(10);
    expect(c.buffer).toBe(a.buffer);
    expect(c.byteOffset).toBe(a.byteOffset);
  });
  it('gives a request that does not fit a buffer of its own, and keeps its place for the next', () => {
    // Sizes above Node's 4 KB pool, so that every buffer here has memory of its own.
    const s = new Slab(100_000);
    const a = s.take(70_000);
    const big = s.take(50_000);
    expect(big.buffer).not.toBe(a.buffer);
    expect(big.length).toBe(50_000);
    const c = s.take(30_000);
    expect(c.buffer).toBe(a.buffer);
    expect(c.byteOffset).toBe(a.byteOffset + 70_000);
  });
});
