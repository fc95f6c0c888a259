// Counted strings (UNICODE_STRING, ANSI_STRING) and their conversions, against the WDK
// reference pages: RtlInitUnicodeString, RtlInitAnsiString, RtlCopyUnicodeString,
// RtlAppendUnicodeToString, RtlAppendUnicodeStringToString, RtlCompareUnicodeString,
// RtlEqualUnicodeString, RtlCreateUnicodeString, RtlFreeUnicodeString,
// RtlUnicodeStringToAnsiString, RtlAnsiStringToUnicodeString, RtlFreeAnsiString,
// RtlIntegerToUnicodeString, RtlUnicodeStringToInteger, RTL_CONSTANT_STRING.
import { beforeAll, describe, expect, it } from "vitest";
import {
  type Machine, UNICODE_STRING, ANSI_STRING, RtlInitUnicodeString, RtlInitAnsiString, RtlCopyUnicodeString, RtlAppendUnicodeToString,
  RtlAppendUnicodeStringToString, RtlCompareUnicodeString, RtlEqualUnicodeString, RtlCreateUnicodeString, RtlFreeUnicodeString,
  RtlUnicodeStringToAnsiString, RtlAnsiStringToUnicodeString, RtlFreeAnsiString, RtlIntegerToUnicodeString, RtlUnicodeStringToInteger,
  RTL_CONSTANT_STRING, unicodeStringText, ansiStringText, unicodeStringFromText, readU16, readU8, readBytes, ExAllocatePool2, ExFreePoolWithTag,
  POOL_FLAG_NON_PAGED, STATUS_SUCCESS, STATUS_BUFFER_TOO_SMALL, STATUS_BUFFER_OVERFLOW, STATUS_INVALID_PARAMETER, wideLiteral, writeWide,
  poolUsed, KeRaiseIrql, DISPATCH_LEVEL,
} from "../../src/index.js";
import { bootDefault, crash, expectBugCheck } from "../support/kernel-harness.js";

const TAG = "StrT";

/** A UNICODE_STRING over a fresh nonpaged buffer of `maximumLength` bytes (filled with 0xAA to see what is written). */
function emptyUnicode(maximumLength: number): UNICODE_STRING {
  const s = new UNICODE_STRING();
  s.Buffer = ExAllocatePool2(POOL_FLAG_NON_PAGED, Math.max(2, maximumLength + 2), TAG);
  writeWide(s.Buffer, "\uAAAA".repeat(maximumLength / 2 + 1));
  s.MaximumLength = maximumLength;
  return s;
}

function emptyAnsi(maximumLength: number): ANSI_STRING {
  const s = new ANSI_STRING();
  s.Buffer = ExAllocatePool2(POOL_FLAG_NON_PAGED, maximumLength + 1, TAG);
  s.MaximumLength = maximumLength;
  return s;
}

describe("UNICODE_STRING and ANSI_STRING", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootDefault();
  });

  it("RtlInitUnicodeString: Length is the string's bytes, MaximumLength adds the terminator; the characters stay where they are", async () => {
    const r = await machine.exec(() => {
      const literal = wideLiteral("\\Device\\Edu0");
      const a = new UNICODE_STRING();
      RtlInitUnicodeString(a, literal);
      const b = new UNICODE_STRING();
      RtlInitUnicodeString(b, "\\Device\\Edu0");
      const n = new UNICODE_STRING();
      RtlInitUnicodeString(n, null);
      return { literal, a: { ...a }, b: { ...b }, n: { ...n }, text: unicodeStringText(a), nul: readU16(a.Buffer + a.Length) };
    });
    expect(r.a).toEqual({ Length: 24, MaximumLength: 26, Buffer: r.literal });
    expect(r.b).toEqual(r.a); // the same literal is placed once
    expect(r.n).toEqual({ Length: 0, MaximumLength: 0, Buffer: 0 });
    expect(r.text).toBe("\\Device\\Edu0");
    expect(r.nul).toBe(0);
  });

  it("RtlInitAnsiString and RTL_CONSTANT_STRING", async () => {
    const r = await machine.exec(() => {
      const a = new ANSI_STRING();
      RtlInitAnsiString(a, "abc");
      const c = RTL_CONSTANT_STRING("Hello");
      return { a: [a.Length, a.MaximumLength, ansiStringText(a)], c: [c.Length, c.MaximumLength, unicodeStringText(c)] };
    });
    expect(r.a).toEqual([3, 4, "abc"]);
    expect(r.c).toEqual([10, 12, "Hello"]);
  });

  it("literals are the kernel's: they are not pool of the driver that used them", async () => {
    const tags = await machine.exec(() => {
      RtlInitUnicodeString(new UNICODE_STRING(), "a literal of its own");
      return poolUsed().filter((u) => u.tag === "Lit ").map((u) => u.drivers);
    });
    expect(tags).toEqual([["nt"]]);
  });

  it("RtlCopyUnicodeString copies min(Source.Length, Destination.MaximumLength) bytes, null-terminates when there is room; NULL source gives Length 0", async () => {
    const r = await machine.exec(() => {
      const src = RTL_CONSTANT_STRING("abcdef");
      const big = emptyUnicode(20);
      RtlCopyUnicodeString(big, src);
      const small = emptyUnicode(6);
      RtlCopyUnicodeString(small, src);
      const cleared = emptyUnicode(8);
      cleared.Length = 4;
      RtlCopyUnicodeString(cleared, null);
      return {
        big: [big.Length, unicodeStringText(big), readU16(big.Buffer + 12)],
        small: [small.Length, unicodeStringText(small), readU16(small.Buffer + 6)],
        cleared: cleared.Length,
      };
    });
    expect(r.big).toEqual([12, "abcdef", 0]);
    expect(r.small).toEqual([6, "abc", 0xAAAA]); // full: no terminator written past MaximumLength
    expect(r.cleared).toBe(0);
  });

  it("RtlAppendUnicodeToString and RtlAppendUnicodeStringToString append, or return STATUS_BUFFER_TOO_SMALL and change nothing", async () => {
    const r = await machine.exec(() => {
      const d = emptyUnicode(16);
      const s1 = RtlAppendUnicodeToString(d, "abc");
      const s2 = RtlAppendUnicodeStringToString(d, RTL_CONSTANT_STRING("de"));
      const after = [d.Length, unicodeStringText(d), readU16(d.Buffer + d.Length)];
      const s3 = RtlAppendUnicodeToString(d, "wxyz");
      const s4 = RtlAppendUnicodeStringToString(d, RTL_CONSTANT_STRING("wxyz"));
      const s5 = RtlAppendUnicodeToString(d, null);
      return { statuses: [s1, s2, s3, s4, s5], after, final: [d.Length, unicodeStringText(d)] };
    });
    expect(r.statuses).toEqual([STATUS_SUCCESS, STATUS_SUCCESS, STATUS_BUFFER_TOO_SMALL, STATUS_BUFFER_TOO_SMALL, STATUS_SUCCESS]);
    expect(r.after).toEqual([10, "abcde", 0]);
    expect(r.final).toEqual([10, "abcde"]);
  });

  it("RtlCompareUnicodeString: sign of the first difference, a prefix sorts first, case folded when asked; RtlEqualUnicodeString", async () => {
    const r = await machine.exec(() => {
      const s = (t: string) => RTL_CONSTANT_STRING(t);
      return {
        equal: RtlCompareUnicodeString(s("abc"), s("abc"), false),
        less: Math.sign(RtlCompareUnicodeString(s("abc"), s("abd"), false)),
        greater: Math.sign(RtlCompareUnicodeString(s("abd"), s("abc"), false)),
        prefix: Math.sign(RtlCompareUnicodeString(s("ab"), s("abc"), false)),
        caseSensitive: Math.sign(RtlCompareUnicodeString(s("ABC"), s("abc"), false)),
        caseInsensitive: RtlCompareUnicodeString(s("ABC"), s("abc"), true),
        eq: [RtlEqualUnicodeString(s("Edu"), s("EDU"), true), RtlEqualUnicodeString(s("Edu"), s("EDU"), false), RtlEqualUnicodeString(s("Edu"), s("Edu0"), true)],
      };
    });
    expect(r).toEqual({ equal: 0, less: -1, greater: 1, prefix: -1, caseSensitive: -1, caseInsensitive: 0, eq: [true, false, false] });
  });

  it("RtlCreateUnicodeString copies into paged pool; RtlFreeUnicodeString frees it and zeroes the structure", async () => {
    const r = await machine.exec(() => {
      const s = new UNICODE_STRING();
      const ok = RtlCreateUnicodeString(s, "copy me");
      const made = { ...s, text: unicodeStringText(s), nul: readU16(s.Buffer + s.Length) };
      const inUse = poolUsed().find((u) => u.tag === "Strg")!.paged.bytes;
      RtlFreeUnicodeString(s);
      return { ok, made, inUse, after: poolUsed().find((u) => u.tag === "Strg")!.paged.bytes, freed: { ...s } };
    });
    expect(r.ok).toBe(true);
    expect(r.made).toMatchObject({ Length: 14, MaximumLength: 16, text: "copy me", nul: 0 });
    expect(r.inUse - r.after).toBe(16);
    expect(r.freed).toEqual({ Length: 0, MaximumLength: 0, Buffer: 0 });
  });

  it("unicodeStringFromText holds any JS string in pool and unicodeStringText reads it back", async () => {
    const text = await machine.exec(() => {
      const s = unicodeStringFromText("naïve – ünïcödé ✓")!;
      const back = unicodeStringText(s);
      RtlFreeUnicodeString(s);
      return back;
    });
    expect(text).toBe("naïve – ünïcödé ✓");
  });

  it("RtlUnicodeStringToAnsiString allocates (length + 1, null-terminated) or fills the caller's buffer, truncating with STATUS_BUFFER_OVERFLOW", async () => {
    const r = await machine.exec(() => {
      const a = new ANSI_STRING();
      const s1 = RtlUnicodeStringToAnsiString(a, RTL_CONSTANT_STRING("Edu0 é€"), true);
      const allocated = [a.Length, a.MaximumLength, ansiStringText(a), readU8(a.Buffer + a.Length)];
      RtlFreeAnsiString(a);
      const small = emptyAnsi(4);
      const s2 = RtlUnicodeStringToAnsiString(small, RTL_CONSTANT_STRING("abcdef"), false);
      return { statuses: [s1, s2], allocated, small: [small.Length, ansiStringText(small), readU8(small.Buffer + 3)], freed: { ...a } };
    });
    expect(r.statuses).toEqual([STATUS_SUCCESS, STATUS_BUFFER_OVERFLOW]);
    expect(r.allocated).toEqual([7, 8, "Edu0 é?", 0]); // the ANSI code page is Latin-1: '€' has no byte
    expect(r.small).toEqual([3, "abc", 0]);
    expect(r.freed).toEqual({ Length: 0, MaximumLength: 0, Buffer: 0 });
  });

  it("RtlAnsiStringToUnicodeString allocates or fills the caller's buffer; too small is STATUS_BUFFER_OVERFLOW", async () => {
    const r = await machine.exec(() => {
      const src = new ANSI_STRING();
      RtlInitAnsiString(src, "PCI\\VEN_1234");
      const u = new UNICODE_STRING();
      const s1 = RtlAnsiStringToUnicodeString(u, src, true);
      const allocated = [u.Length, u.MaximumLength, unicodeStringText(u), readU16(u.Buffer + u.Length)];
      RtlFreeUnicodeString(u);
      const fits = emptyUnicode(24);
      const s2 = RtlAnsiStringToUnicodeString(fits, src, false);
      const small = emptyUnicode(10);
      const s3 = RtlAnsiStringToUnicodeString(small, src, false);
      return { statuses: [s1, s2, s3], allocated, fits: [fits.Length, unicodeStringText(fits)], small: small.Length };
    });
    expect(r.statuses).toEqual([STATUS_SUCCESS, STATUS_SUCCESS, STATUS_BUFFER_OVERFLOW]);
    expect(r.allocated).toEqual([24, 26, "PCI\\VEN_1234", 0]);
    expect(r.fits).toEqual([24, "PCI\\VEN_1234"]);
    expect(r.small).toBe(0);
  });

  it("RtlIntegerToUnicodeString: bases 2, 8, 10 (or 0), 16; another base is STATUS_INVALID_PARAMETER; too small is STATUS_BUFFER_OVERFLOW", async () => {
    const r = await machine.exec(() => {
      const out: unknown[] = [];
      for (const [value, base] of [[1234, 10], [1234, 0], [0xBEEF, 16], [8, 8], [5, 2], [0xFFFFFFFF, 10]]) {
        const s = emptyUnicode(40);
        out.push([RtlIntegerToUnicodeString(value, base, s), unicodeStringText(s)]);
      }
      const s = emptyUnicode(40);
      out.push(RtlIntegerToUnicodeString(1, 7, s));
      const tiny = emptyUnicode(4);
      out.push([RtlIntegerToUnicodeString(12345, 10, tiny), tiny.Length]);
      return out;
    });
    expect(r).toEqual([
      [STATUS_SUCCESS, "1234"], [STATUS_SUCCESS, "1234"], [STATUS_SUCCESS, "BEEF"], [STATUS_SUCCESS, "10"], [STATUS_SUCCESS, "101"],
      [STATUS_SUCCESS, "4294967295"], STATUS_INVALID_PARAMETER, [STATUS_BUFFER_OVERFLOW, 0],
    ]);
  });

  it("RtlUnicodeStringToInteger: the reference page's examples, prefixes with base 0, empty string and bad base are STATUS_INVALID_PARAMETER", async () => {
    const r = await machine.exec(() => {
      const parse = (text: string, base: number) => {
        const { status, Value } = RtlUnicodeStringToInteger(RTL_CONSTANT_STRING(text), base);
        return [status, Value | 0];
      };
      return [
        parse("123", 10), parse("  -345", 10), parse("xyz", 10), parse("   +678abc", 10), parse("   +678abc", 16), parse("007", 10),
        parse("789", 8), parse("FGH", 16), parse("      ", 10), parse("0x1F", 0), parse("0o17", 0), parse("0b101", 0), parse("42", 0),
        parse("", 10), parse("12", 3),
      ];
    });
    const ok = (v: number) => [STATUS_SUCCESS, v];
    expect(r).toEqual([
      ok(123), ok(-345), ok(0), ok(678), ok(6785724), ok(7), ok(7), ok(15), ok(0), ok(31), ok(15), ok(5), ok(42),
      [STATUS_INVALID_PARAMETER, 0], [STATUS_INVALID_PARAMETER, 0],
    ]);
  });

  it("strings are UTF-16LE in guest memory", async () => {
    const bytes = await machine.exec(() => {
      const s = RTL_CONSTANT_STRING("Aé");
      return [...readBytes(s.Buffer, s.MaximumLength)];
    });
    expect(bytes).toEqual([0x41, 0, 0xE9, 0, 0, 0]);
  });

  it("a free of pool still in use is the pool's to judge: freeing a string twice is 0xC2 / 0x07", async () => {
    const bc = await crash(() => {
      const s = unicodeStringFromText("twice")!;
      const copy = { ...s };
      RtlFreeUnicodeString(s);
      ExFreePoolWithTag(copy.Buffer, 0);
    });
    expectBugCheck(bc, 0xC2, 0x07);
  });

  it("converting with an allocated destination at DISPATCH_LEVEL is a paged pool IRQL violation (0xC4 / 0x01 under the verifier)", async () => {
    const bc = await crash(() => {
      KeRaiseIrql(DISPATCH_LEVEL);
      RtlUnicodeStringToAnsiString(new ANSI_STRING(), RTL_CONSTANT_STRING("x"), true);
    });
    expectBugCheck(bc, 0xC4, 0x01, DISPATCH_LEVEL);
  });
});
