// The MMU: x86-64 4-level paging with 4 KiB pages, accessed/dirty bits, page-fault error
// codes and a per-CPU TLB, through cpuTranslate / cpuRead / cpuWrite.
import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { CoreHarness, DATA_BASE, L, PTE } from "../support/core-harness.js";

const R = 0;
const W = L.ACCESS_WRITE;
const U = L.ACCESS_USER;
const X = L.ACCESS_EXECUTE;

/** A VA whose four table indices are all different and non-zero. */
const VA = 0x00007F1234567000;
/** Frames well inside RAM (the test machine has 32 MiB). */
const FRAME_A = DATA_BASE + 0x100000;
const FRAME_B = DATA_BASE + 0x200000;

function fresh(): CoreHarness {
  const h = new CoreHarness();
  return h;
}

function translate(h: CoreHarness, va: number, access = R, cpu = 0): number {
  return h.x.cpuTranslate(cpu, va, access);
}

function expectFault(h: CoreHarness, va: number, access: number, code: number, cpu = 0): void {
  expect(translate(h, va, access, cpu), `translate 0x${va.toString(16)} access ${access}`).toBe(-1);
  expect(h.core.lastFault(cpu)).toEqual({ va, code });
}

describe("translation", () => {
  test("4-level walk: a mapped page translates to its frame plus the page offset", () => {
    const h = fresh();
    h.map(VA, FRAME_A, PTE.P | PTE.W);
    expect(translate(h, VA)).toBe(FRAME_A);
    expect(translate(h, VA + 0xABC)).toBe(FRAME_A + 0xABC);
    expect(translate(h, VA + 0xFFF)).toBe(FRAME_A + 0xFFF);
    expect(CoreHarness.index(VA, 3)).not.toBe(CoreHarness.index(VA, 2));
  });

  test("4-level walk: each index selects its own table entry (neighbouring pages, tables and directories)", () => {
    const h = fresh();
    const vas = [VA, VA + 0x1000, VA + 0x200000, VA + 0x40000000, VA + 0x8000000000, 0x1000];
    vas.forEach((va, i) => h.map(va, FRAME_A + i * 0x1000));
    vas.forEach((va, i) => expect(translate(h, va + 0x10)).toBe(FRAME_A + i * 0x1000 + 0x10));
  });

  test("4-level walk: frames above 4 GiB translate (52-bit physical addresses)", () => {
    const h = fresh();
    const high = 0x000F_FFFF_FFFF_F000;
    h.map(VA, high);
    expect(translate(h, VA + 0x123)).toBe(high + 0x123);
  });

  test("CPU reads and writes go through the translation to RAM", () => {
    const h = fresh();
    h.map(VA, FRAME_A);
    expect(h.write(VA + 0x10, 4, 0xDEADBEEF)).toBe(L.ACCESS_OK);
    expect(h.core.readPhysical64(FRAME_A + 0x10)[0]).toBe(0xDEADBEEF);
    h.core.writePhysical64(FRAME_A + 0x20, 0x11223344, 0x55667788);
    expect(h.read(VA + 0x20, 8)).toEqual({ value: 0x5566778811223344n, status: L.ACCESS_OK });
  });

  test("walker sets Accessed on every level, and Dirty on the leaf for writes only", () => {
    const h = fresh();
    h.map(VA, FRAME_A);
    const entries = h.walk(VA) as number[];
    for (const e of entries) expect(h.readEntry(e) & BigInt(PTE.A | PTE.D)).toBe(0n);
    translate(h, VA, R);
    for (const e of entries) expect(h.readEntry(e) & BigInt(PTE.A)).toBe(BigInt(PTE.A));
    expect(h.readEntry(entries[3]) & BigInt(PTE.D)).toBe(0n);
    translate(h, VA, W);
    expect(h.readEntry(entries[3]) & BigInt(PTE.D)).toBe(BigInt(PTE.D));
    for (const e of entries.slice(0, 3)) expect(h.readEntry(e) & BigInt(PTE.D)).toBe(0n);
  });

  test("walker leaves the frame and other bits of the entries unchanged", () => {
    const h = fresh();
    const pte = h.map(VA, FRAME_A, PTE.P | PTE.W | PTE.U, true);
    translate(h, VA, W);
    expect(h.readEntry(pte)).toBe(BigInt(FRAME_A | PTE.P | PTE.W | PTE.U | PTE.A | PTE.D) | (1n << 63n));
  });
});

describe("page faults", () => {
  test("not present: error code 0 for a read, W for a write, U for user, I for a fetch; fault VA recorded", () => {
    const h = fresh();
    const va = VA + 0x345;
    expectFault(h, va, R, 0);
    expectFault(h, va, W, L.PF_WRITE);
    expectFault(h, va, U, L.PF_USER);
    expectFault(h, va, W | U, L.PF_WRITE | L.PF_USER);
    expectFault(h, va, X, L.PF_FETCH);
  });

  test("not present at each level (PML4E, PDPTE, PDE, PTE) faults with P clear", () => {
    const h = fresh();
    h.map(VA, FRAME_A);
    const entries = h.walk(VA) as number[];
    for (let level = 3; level >= 0; level--) {
      const e = entries[3 - level];
      const saved = h.readEntry(e);
      h.writeEntry(e, saved & ~1n);
      h.x.invalidatePage(0, VA);
      expectFault(h, VA, R, 0);
      h.writeEntry(e, saved);
      h.x.invalidatePage(0, VA);
      expect(translate(h, VA)).toBe(FRAME_A);
    }
  });

  test("write to a read-only page faults with P|W", () => {
    const h = fresh();
    h.map(VA, FRAME_A, PTE.P);
    expect(translate(h, VA, R)).toBe(FRAME_A);
    expectFault(h, VA + 8, W, L.PF_PRESENT | L.PF_WRITE);
  });

  test("write through a read-only directory entry faults with P|W (permissions AND across levels)", () => {
    const h = fresh();
    h.map(VA, FRAME_A, PTE.P | PTE.W);
    const pde = (h.walk(VA) as number[])[2];
    h.writeEntry(pde, h.readEntry(pde) & ~BigInt(PTE.W));
    h.x.invalidatePage(0, VA);
    expectFault(h, VA, W, L.PF_PRESENT | L.PF_WRITE);
    expect(translate(h, VA, R)).toBe(FRAME_A);
  });

  test("user access to a supervisor page faults with P|U (and P|W|U for a write)", () => {
    const h = fresh();
    h.map(VA, FRAME_A, PTE.P | PTE.W);
    expectFault(h, VA, U, L.PF_PRESENT | L.PF_USER);
    expectFault(h, VA, U | W, L.PF_PRESENT | L.PF_WRITE | L.PF_USER);
    expect(translate(h, VA, R)).toBe(FRAME_A);
  });

  test("user access through a supervisor-only upper level faults with P|U", () => {
    const h = fresh();
    h.map(VA, FRAME_A, PTE.P | PTE.W | PTE.U);
    expect(translate(h, VA, U | W)).toBe(FRAME_A);
    const pdpte = (h.walk(VA) as number[])[1];
    h.writeEntry(pdpte, h.readEntry(pdpte) & ~BigInt(PTE.U));
    h.x.invalidatePage(0, VA);
    expectFault(h, VA, U, L.PF_PRESENT | L.PF_USER);
  });

  test("user access to a user page succeeds when every level allows it", () => {
    const h = fresh();
    h.map(VA, FRAME_A, PTE.P | PTE.W | PTE.U);
    expect(translate(h, VA, U)).toBe(FRAME_A);
    expect(translate(h, VA, U | W)).toBe(FRAME_A);
  });

  test("instruction fetch from a no-execute page faults with P|I; reads and writes are allowed", () => {
    const h = fresh();
    h.map(VA, FRAME_A, PTE.P | PTE.W, true);
    expect(translate(h, VA, R)).toBe(FRAME_A);
    expect(translate(h, VA, W)).toBe(FRAME_A);
    expectFault(h, VA, X, L.PF_PRESENT | L.PF_FETCH);
    h.map(VA + 0x1000, FRAME_B, PTE.P | PTE.W, false);
    expect(translate(h, VA + 0x1000, X)).toBe(FRAME_B);
  });

  test("non-canonical virtual addresses fault", () => {
    const h = fresh();
    // Identity-map page 0 so an address that wrapped to the low 48 bits would translate.
    h.map(0, FRAME_A);
    for (const va of [2 ** 47, 2 ** 48, 2 ** 48 + 0x1000, 0x0001_2345_6789_A000, 2 ** 63]) {
      expect(translate(h, va), `0x${va.toString(16)}`).toBe(-1);
      expect(h.core.lastFault(0).va).toBe(va);
    }
  });

  test("a faulting access reports ACCESS_PAGE_FAULT, counts a page fault and touches no memory", () => {
    const h = fresh();
    h.map(VA, FRAME_A, PTE.P);
    h.core.writePhysical64(FRAME_A, 0x12345678, 0);
    const before = h.counters().pageFaults;
    expect(h.write(VA, 4, 0xFFFFFFFF)).toBe(L.ACCESS_PAGE_FAULT);
    expect(h.read(VA + 0x2000, 4).status).toBe(L.ACCESS_PAGE_FAULT);
    expect(h.counters().pageFaults).toBe(before + 2);
    expect(h.core.readPhysical64(FRAME_A)[0]).toBe(0x12345678);
  });

  test("an access crossing into an unmapped page faults at the first unmapped byte", () => {
    const h = fresh();
    h.map(VA, FRAME_A);
    expect(h.read(VA + 0xFFE, 4).status).toBe(L.ACCESS_PAGE_FAULT);
    expect(h.core.lastFault(0).va).toBe(VA + 0x1000);
  });
});

describe("TLB", () => {
  test("TLB: the first access walks (tlbMisses), later accesses to the page hit (tlbHits)", () => {
    const h = fresh();
    h.map(VA, FRAME_A);
    const c0 = h.counters();
    translate(h, VA);
    const c1 = h.counters();
    expect(c1.tlbMisses - c0.tlbMisses).toBe(1);
    expect(c1.tlbHits - c0.tlbHits).toBe(0);
    translate(h, VA + 0x10);
    h.read(VA + 0x20, 4);
    const c2 = h.counters();
    expect(c2.tlbMisses - c1.tlbMisses).toBe(0);
    expect(c2.tlbHits - c1.tlbHits).toBe(2);
  });

  test("TLB: a read-only supervisor mapping of physical frame 0 hits after the first walk", () => {
    const h = fresh();
    h.map(VA, 0, PTE.P);
    translate(h, VA);
    const c1 = h.counters();
    expect(translate(h, VA + 4)).toBe(4);
    const c2 = h.counters();
    expect(c2.tlbHits - c1.tlbHits).toBe(1);
    expect(c2.tlbMisses - c1.tlbMisses).toBe(0);
  });

  test("TLB: a miss charges the page walk (tlbMissCycles CPU cycles) to the CPU clock; a hit charges nothing", () => {
    const h = fresh();
    const d = h.machine.description.cpu;
    const walkPs = (d.tlbMissCycles * 1e9) / d.kHz;
    h.map(VA, FRAME_A);
    const t0 = h.cpuTime();
    translate(h, VA);
    const t1 = h.cpuTime();
    expect(t1 - t0).toBeGreaterThanOrEqual(Math.floor(walkPs));
    expect(t1 - t0).toBeLessThanOrEqual(Math.ceil(walkPs));
    translate(h, VA);
    expect(h.cpuTime()).toBe(t1);
  });

  test("TLB: a cached translation stays in use until invalidatePage forces a re-walk", () => {
    const h = fresh();
    h.map(VA, FRAME_A);
    expect(translate(h, VA)).toBe(FRAME_A);
    h.map(VA, FRAME_B); // the OS changes the PTE ...
    expect(translate(h, VA)).toBe(FRAME_A); // ... the TLB still holds the old translation
    const before = h.counters().tlbMisses;
    h.x.invalidatePage(0, VA + 0x800);
    expect(translate(h, VA)).toBe(FRAME_B);
    expect(h.counters().tlbMisses).toBe(before + 1);
  });

  test("TLB: invalidatePage drops only that page", () => {
    const h = fresh();
    h.map(VA, FRAME_A);
    h.map(VA + 0x1000, FRAME_B);
    translate(h, VA);
    translate(h, VA + 0x1000);
    h.unmap(VA);
    h.unmap(VA + 0x1000);
    h.x.invalidatePage(0, VA);
    expectFault(h, VA, R, 0);
    expect(translate(h, VA + 0x1000)).toBe(FRAME_B);
  });

  test("TLB: a write to a page cached by a read re-walks to set Dirty", () => {
    const h = fresh();
    const pte = h.map(VA, FRAME_A);
    translate(h, VA, R);
    const c1 = h.counters();
    translate(h, VA, W);
    const c2 = h.counters();
    expect(c2.tlbMisses - c1.tlbMisses).toBe(1);
    expect(h.readEntry(pte) & BigInt(PTE.D)).toBe(BigInt(PTE.D));
    translate(h, VA, W);
    expect(h.counters().tlbHits - c2.tlbHits).toBe(1);
  });

  test("TLB: a cached read-only translation still faults on write", () => {
    const h = fresh();
    h.map(VA, FRAME_A, PTE.P);
    translate(h, VA, R);
    expectFault(h, VA, W, L.PF_PRESENT | L.PF_WRITE);
    expectFault(h, VA, U, L.PF_PRESENT | L.PF_USER);
  });

  test("TLB: setCr3 flushes non-global entries; global pages survive", () => {
    const h = fresh();
    const globalVa = VA, localVa = VA + 0x1000;
    h.map(globalVa, FRAME_A, PTE.P | PTE.W | PTE.G);
    h.map(localVa, FRAME_B, PTE.P | PTE.W);
    translate(h, globalVa);
    translate(h, localVa);
    // A second address space that maps neither page.
    const other = h.allocTable();
    h.x.setCr3(0, other);
    const c1 = h.counters();
    expect(translate(h, globalVa)).toBe(FRAME_A);
    expect(h.counters().tlbHits - c1.tlbHits).toBe(1);
    expectFault(h, localVa, R, 0);
    // A full flush (invalidatePage with -1) drops global entries too.
    h.x.invalidatePage(0, -1);
    expectFault(h, globalVa, R, 0);
  });

  test("TLB: reloading the same CR3 re-walks non-global pages", () => {
    const h = fresh();
    h.map(VA, FRAME_A);
    translate(h, VA);
    h.map(VA, FRAME_B);
    h.x.setCr3(0, h.pml4);
    expect(translate(h, VA)).toBe(FRAME_B);
  });

  test("TLB: each CPU has its own (invalidating on CPU 0 leaves CPU 1's entry)", () => {
    const h = fresh();
    h.map(VA, FRAME_A);
    expect(translate(h, VA, R, 0)).toBe(FRAME_A);
    expect(translate(h, VA, R, 1)).toBe(FRAME_A);
    h.map(VA, FRAME_B);
    h.x.invalidatePage(0, VA);
    expect(translate(h, VA, R, 0)).toBe(FRAME_B);
    expect(translate(h, VA, R, 1)).toBe(FRAME_A);
  });
});

// ---- property: random mappings against a Map ------------------------------------------

interface Mapping { pfn: number; w: boolean; u: boolean; nx: boolean }

type Op =
  | { kind: "map"; page: number; pfn: number; w: boolean; u: boolean; nx: boolean }
  | { kind: "unmap"; page: number }
  | { kind: "access"; page: number; offset: number; access: number };

describe("property", () => {
  test("random mappings, unmappings and accesses agree with a Map-based model", () => {
    const h = fresh();
    const vpn = fc.integer({ min: 0, max: 2 ** 36 - 1 });
    const ops = (pages: number) => fc.array(
      fc.oneof(
        fc.record({
          kind: fc.constant("map" as const), page: fc.integer({ min: 0, max: pages - 1 }),
          pfn: fc.integer({ min: 0, max: 2 ** 40 - 1 }), w: fc.boolean(), u: fc.boolean(), nx: fc.boolean(),
        }),
        fc.record({ kind: fc.constant("unmap" as const), page: fc.integer({ min: 0, max: pages - 1 }) }),
        fc.record({
          kind: fc.constant("access" as const), page: fc.integer({ min: 0, max: pages - 1 }),
          offset: fc.integer({ min: 0, max: 4095 }), access: fc.integer({ min: 0, max: 7 }).filter((a) => (a & (W | X)) !== (W | X)),
        }),
        fc.record({
          kind: fc.constant("access" as const), page: fc.integer({ min: 0, max: pages - 1 }),
          offset: fc.integer({ min: 0, max: 4095 }), access: fc.constantFrom(R, W),
        }),
      ),
      { minLength: 1, maxLength: 40 },
    );
    const scenario = fc.uniqueArray(vpn, { minLength: 1, maxLength: 12 })
      .chain((vpns) => fc.tuple(fc.constant(vpns), ops(vpns.length)));

    fc.assert(
      fc.property(scenario, ([vpns, program]) => {
        h.resetPageTables();
        h.x.setCr3(0, h.pml4);
        h.x.invalidatePage(0, -1);
        const model = new Map<number, Mapping>();
        for (const op of program as Op[]) {
          const va = vpns[op.page] * 4096;
          if (op.kind === "map") {
            h.map(va, op.pfn * 4096, PTE.P | (op.w ? PTE.W : 0) | (op.u ? PTE.U : 0), op.nx);
            h.x.invalidatePage(0, va);
            model.set(vpns[op.page], { pfn: op.pfn, w: op.w, u: op.u, nx: op.nx });
          } else if (op.kind === "unmap") {
            h.unmap(va);
            h.x.invalidatePage(0, va);
            model.delete(vpns[op.page]);
          } else {
            const m = model.get(vpns[op.page]);
            const flags = ((op.access & W) ? L.PF_WRITE : 0) | ((op.access & U) ? L.PF_USER : 0) | ((op.access & X) ? L.PF_FETCH : 0);
            const got = h.x.cpuTranslate(0, va + op.offset, op.access);
            if (!m) {
              expect(got).toBe(-1);
              expect(h.core.lastFault(0)).toEqual({ va: va + op.offset, code: flags });
            } else if ((op.access & W && !m.w) || (op.access & U && !m.u) || (op.access & X && m.nx)) {
              expect(got).toBe(-1);
              expect(h.core.lastFault(0)).toEqual({ va: va + op.offset, code: L.PF_PRESENT | flags });
            } else {
              expect(got).toBe(m.pfn * 4096 + op.offset);
              const pte = h.readEntry(h.walk(va)[3]!);
              expect(pte & BigInt(PTE.A)).toBe(BigInt(PTE.A));
              if (op.access & W) expect(pte & BigInt(PTE.D)).toBe(BigInt(PTE.D));
            }
          }
        }
      }),
      { numRuns: 150, seed: 0x3A3A },
    );
  });
});
