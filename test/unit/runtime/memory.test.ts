import { describe, it, expect } from 'vitest';
import { MemoryRelief } from '../../../src/runtime/memory.js';
import { mallocTrim } from '../../../src/runtime/posix.js';

const tick = () => new Promise((r) => setImmediate(r));

describe('memory relief while a session is quiet', () => {
  it('collects garbage and trims the C heap when asked, without --expose-gc', async () => {
    expect(typeof (globalThis as { gc?: unknown }).gc).toBe('undefined'); // not exposed in this process
    let big: { data: number[] } | undefined = { data: new Array(1_000_000).fill(1) };
    const ref = new WeakRef(big);
    big = undefined;
    await tick(); // a WeakRef target lives at least until the end of the job that made it
    const r = new MemoryRelief();
    expect(r.relieve(true)).toBe(true);
    expect(ref.deref()).toBeUndefined();
    expect(mallocTrim()).toBe(true);
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined(); // and still not exposed afterwards
  });
  it('does nothing when memory has not grown since the last relief, and an idle timer does not keep the process alive', async () => {
    const r = new MemoryRelief();
    r.relieve(true);
    expect(r.relieve()).toBe(false);
    // Growth of more than 8 MB of resident memory: relief is worth it again.
    const held = Array.from({ length: 24 }, () => Buffer.alloc(1 << 20, 1));
    expect(held.length).toBe(24);
    expect(r.relieve()).toBe(true);
    r.idle();
    r.busy(); // a command arrived before the quiet time passed: nothing runs
    r.idle();
    await new Promise((res) => setTimeout(res, 300));
  });
});
