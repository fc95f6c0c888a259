// The range allocator behind pool, I/O space and system PTEs: what it hands out is aligned,
// inside its range and never overlaps a live range; frees coalesce, so once everything is
// freed the whole range can be allocated again in one piece.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { RangeAllocator } from "../../src/mm/va-allocator.js";

const START = 0x10000;
const SIZE = 0x10000;
const UNIT = 16;

describe("RangeAllocator", () => {
  it("hands out aligned, disjoint ranges inside its space, counts them as used, and coalesces every free", () => {
    const step = fc.oneof(
      fc.record({ op: fc.constant("alloc" as const), size: fc.integer({ min: 1, max: 0x3000 }), alignShift: fc.integer({ min: 0, max: 8 }) }),
      fc.record({ op: fc.constant("free" as const), pick: fc.nat() }),
    );
    fc.assert(fc.property(fc.array(step, { maxLength: 200 }), (steps) => {
      const a = new RangeAllocator(START, START + SIZE, UNIT);
      const live: { at: number; bytes: number }[] = [];
      for (const s of steps) {
        if (s.op === "alloc") {
          const align = UNIT << s.alignShift;
          const at = a.allocate(s.size, align);
          const bytes = Math.ceil(s.size / UNIT) * UNIT;
          if (at < 0) continue;
          expect(at % align).toBe(0);
          expect(at).toBeGreaterThanOrEqual(START);
          expect(at + bytes).toBeLessThanOrEqual(START + SIZE);
          for (const l of live) expect(at + bytes <= l.at || l.at + l.bytes <= at).toBe(true);
          live.push({ at, bytes });
        } else if (live.length > 0) {
          const [gone] = live.splice(s.pick % live.length, 1);
          a.release(gone.at, gone.bytes);
        }
        expect(a.used).toBe(live.reduce((n, l) => n + l.bytes, 0));
      }
      for (const l of live) a.release(l.at, l.bytes);
      expect(a.used).toBe(0);
      expect(a.allocate(SIZE)).toBe(START);
    }), { numRuns: 300 });
  });

  it("is first fit: the lowest free range that holds the request is used", () => {
    const a = new RangeAllocator(START, START + SIZE, UNIT);
    const x = a.allocate(0x100);
    const y = a.allocate(0x100);
    a.allocate(0x100);
    a.release(x, 0x100);
    a.release(y, 0x100);
    expect(a.allocate(0x180)).toBe(x);
    expect(a.allocate(0x80)).toBe(x + 0x180);
  });
});
