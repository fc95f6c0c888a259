// ntstrsafe's wide routines against their reference pages: STATUS_SUCCESS, truncation with
// STATUS_BUFFER_OVERFLOW (the destination still null-terminated), STATUS_INVALID_PARAMETER
// for sizes of 0 or above NTSTRSAFE_MAX_CCH, unterminated destinations and bad
// UNICODE_STRINGs; and the printf formats.
import { beforeAll, describe, expect, it } from "vitest";
import {
  type Machine, RtlStringCbCopyW, RtlStringCchCopyW, RtlStringCbCatW, RtlStringCchCatW, RtlStringCbPrintfW, RtlStringCchPrintfW,
  RtlStringCbLengthW, RtlStringCchLengthW, RtlUnicodeStringCopy, RtlUnicodeStringCat, RtlUnicodeStringPrintf, UNICODE_STRING, ANSI_STRING,
  RtlInitAnsiString, RTL_CONSTANT_STRING, unicodeStringText, ExAllocatePool2, POOL_FLAG_NON_PAGED, readWide, readU16, writeWide, wideLiteral,
  ansiLiteral, NTSTRSAFE_MAX_CCH, STATUS_SUCCESS, STATUS_BUFFER_OVERFLOW, STATUS_INVALID_PARAMETER, formatWide, formatAnsi,
} from "../../src/index.js";
import { bootDefault } from "../support/kernel-harness.js";

const FILL = "\uAAAA";

/** A guest buffer of `chars` wide characters, all FILL (no null anywhere). */
function buffer(chars: number): number {
  const va = ExAllocatePool2(POOL_FLAG_NON_PAGED, chars * 2 + 2, "SafT");
  writeWide(va, FILL.repeat(chars + 1));
  return va;
}

/** The characters of a guest buffer up to (not including) its first null, or all `chars`. */
function text(va: number, chars: number): string {
  const all = readWide(va, chars);
  const end = all.indexOf("\0");
  return end < 0 ? all : all.slice(0, end);
}

describe("ntstrsafe", () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await bootDefault();
  });

  it("RtlStringCchCopyW / RtlStringCbCopyW copy and null-terminate; too long truncates with STATUS_BUFFER_OVERFLOW", async () => {
    const r = await machine.exec(() => {
      const a = buffer(8);
      const s1 = RtlStringCchCopyW(a, 8, "hello");
      const b = buffer(4);
      const s2 = RtlStringCchCopyW(b, 4, "hello");
      const c = buffer(8);
      const s3 = RtlStringCbCopyW(c, 8, wideLiteral("hello")); // 8 bytes: 4 characters
      const d = buffer(6);
      const s4 = RtlStringCchCopyW(d, 6, "hello"); // exactly fits with its terminator
      return [[s1, text(a, 8), readU16(a + 10)], [s2, text(b, 4), readU16(b + 6)], [s3, text(c, 4), readU16(c + 6)], [s4, text(d, 6)]];
    });
    expect(r).toEqual([
      [STATUS_SUCCESS, "hello", 0], [STATUS_BUFFER_OVERFLOW, "hel", 0], [STATUS_BUFFER_OVERFLOW, "hel", 0], [STATUS_SUCCESS, "hello"],
    ]);
  });

  it("copy with a size of 0 or above NTSTRSAFE_MAX_CCH is STATUS_INVALID_PARAMETER and writes nothing", async () => {
    const r = await machine.exec(() => {
      const a = buffer(4);
      return [
        RtlStringCchCopyW(a, 0, "x"), RtlStringCchCopyW(a, NTSTRSAFE_MAX_CCH + 1, "x"), RtlStringCbCopyW(a, 1, "x"),
        readU16(a),
      ];
    });
    expect(r).toEqual([STATUS_INVALID_PARAMETER, STATUS_INVALID_PARAMETER, STATUS_INVALID_PARAMETER, 0xAAAA]);
  });

  it("RtlStringCchCatW / RtlStringCbCatW append with truncation; a destination with no null within its size is STATUS_INVALID_PARAMETER", async () => {
    const r = await machine.exec(() => {
      const a = buffer(10);
      RtlStringCchCopyW(a, 10, "abc");
      const s1 = RtlStringCchCatW(a, 10, "def");
      const s2 = RtlStringCbCatW(a, 20, "ghijk");
      const full = text(a, 10);
      const unterminated = buffer(4);
      const s3 = RtlStringCchCatW(unterminated, 4, "x");
      return { statuses: [s1, s2, s3], full, untouched: readU16(unterminated) };
    });
    expect(r.statuses).toEqual([STATUS_SUCCESS, STATUS_BUFFER_OVERFLOW, STATUS_INVALID_PARAMETER]);
    expect(r.full).toBe("abcdefghi");
    expect(r.untouched).toBe(0xAAAA);
  });

  it("RtlStringCchLengthW / RtlStringCbLengthW: length within cchMax, else STATUS_INVALID_PARAMETER; NULL is STATUS_INVALID_PARAMETER", async () => {
    const r = await machine.exec(() => {
      const s = wideLiteral("four");
      return [RtlStringCchLengthW(s, 5), RtlStringCchLengthW(s, 4), RtlStringCbLengthW(s, 10), RtlStringCbLengthW(s, 8), RtlStringCchLengthW(null, 5),
        RtlStringCchLengthW(s, NTSTRSAFE_MAX_CCH + 1)];
    });
    expect(r).toEqual([
      { status: STATUS_SUCCESS, cchLength: 4 }, { status: STATUS_INVALID_PARAMETER, cchLength: 0 }, { status: STATUS_SUCCESS, cbLength: 8 },
      { status: STATUS_INVALID_PARAMETER, cbLength: 0 }, { status: STATUS_INVALID_PARAMETER, cchLength: 0 }, { status: STATUS_INVALID_PARAMETER, cchLength: 0 },
    ]);
  });

  it("RtlStringCchPrintfW / RtlStringCbPrintfW format into the buffer, truncating with STATUS_BUFFER_OVERFLOW", async () => {
    const r = await machine.exec(() => {
      const a = buffer(64);
      const s1 = RtlStringCchPrintfW(a, 64, "\\Device\\Edu%d irq %u 0x%08X %ws", 3, 42, 0xBEEF, "ok");
      const b = buffer(8);
      const s2 = RtlStringCbPrintfW(b, 16, "%s-%s", "abcd", "efgh");
      const c = buffer(4);
      const s3 = RtlStringCchPrintfW(c, 4, "%q", 1);
      return [[s1, text(a, 64)], [s2, text(b, 8)], [s3, readU16(c)]];
    });
    expect(r).toEqual([[STATUS_SUCCESS, "\\Device\\Edu3 irq 42 0x0000BEEF ok"], [STATUS_BUFFER_OVERFLOW, "abcd-ef"], [STATUS_INVALID_PARAMETER, 0xAAAA]]);
  });

  it("the documented format subset: flags, widths, precision, sizes, characters, strings and counted strings", async () => {
    const r = await machine.exec(() => {
      const ansi = new ANSI_STRING();
      RtlInitAnsiString(ansi, "narrow");
      return [
        formatWide("[%5d][%-5d][%05d][%+d][% d][%d]", [42, 42, -42, 7, 7, -2147483648]),
        formatWide("[%u][%x][%X][%#x][%o][%#o]", [-1, 255, 255, 255, 8, 8]),
        formatWide("[%lld][%I64u][%I64x][%llx]", [-5n, 2n ** 64n - 1n, 0x123456789ABCn, 1]),
        formatWide("[%c][%C][%s][%S][%hs][%ls][%.3s][%*d][%.*d]", [0x41, "B", "wide", "ansi", ansiLiteral("addr"), "l", "truncate", 4, 7, 3, 5]),
        formatWide("[%wZ][%Z][%wZ][%s][%p][%%]", [RTL_CONSTANT_STRING("counted"), ansi, null, 0, 0xFFFF8000]),
        formatWide("%d %d", [1]),
        formatWide("%wZ", [ansi]),
      ];
    });
    expect(r).toEqual([
      "[   42][42   ][-0042][+7][ 7][-2147483648]",
      "[4294967295][ff][FF][0xff][10][010]",
      "[-5][18446744073709551615][123456789abc][1]",
      "[A][B][wide][ansi][addr][l][tru][   7][005]",
      "[counted][narrow][(null)][(null)][00000000FFFF8000][%]",
      null,
      null,
    ]);
  });

  it("the I size prefix: size_t and ptrdiff_t, 64 bits on x64 (%Iu, %Id, %Ix)", async () => {
    const r = await machine.exec(() => [
      formatAnsi("[%Iu][%Id][%Ix][%Iu]", [100, -1, 2n ** 40n, 2n ** 64n - 1n]),
      formatAnsi("[%I32u][%I64u]", [-1, 5]),
    ]);
    expect(r).toEqual(["[100][-1][10000000000][18446744073709551615]", "[4294967295][5]"]);
  });

  it("RtlUnicodeStringCopy / RtlUnicodeStringCat: counted, not null-terminated; truncation is STATUS_BUFFER_OVERFLOW", async () => {
    const r = await machine.exec(() => {
      const d = new UNICODE_STRING();
      d.Buffer = buffer(8);
      d.MaximumLength = 16;
      const s1 = RtlUnicodeStringCopy(d, RTL_CONSTANT_STRING("abcde"));
      const afterCopy = [d.Length, unicodeStringText(d), readU16(d.Buffer + d.Length)];
      const s2 = RtlUnicodeStringCat(d, RTL_CONSTANT_STRING("fghij"));
      return { statuses: [s1, s2], afterCopy, final: [d.Length, unicodeStringText(d)] };
    });
    expect(r.statuses).toEqual([STATUS_SUCCESS, STATUS_BUFFER_OVERFLOW]);
    expect(r.afterCopy).toEqual([10, "abcde", 0xAAAA]);
    expect(r.final).toEqual([16, "abcdefgh"]);
  });

  it("RtlUnicodeStringPrintf formats into a counted string; invalid UNICODE_STRINGs are STATUS_INVALID_PARAMETER", async () => {
    const r = await machine.exec(() => {
      const d = new UNICODE_STRING();
      d.Buffer = buffer(16);
      d.MaximumLength = 32;
      const s1 = RtlUnicodeStringPrintf(d, "%wZ#%u", RTL_CONSTANT_STRING("Edu"), 7);
      const made = [d.Length, unicodeStringText(d)];
      const odd = new UNICODE_STRING();
      odd.Buffer = d.Buffer;
      odd.MaximumLength = 31;
      const longer = new UNICODE_STRING();
      longer.Buffer = d.Buffer;
      longer.Length = 8;
      longer.MaximumLength = 4;
      const nullBuffer = new UNICODE_STRING();
      nullBuffer.MaximumLength = 8;
      return {
        s1, made,
        invalid: [RtlUnicodeStringPrintf(odd, "x"), RtlUnicodeStringCopy(longer, RTL_CONSTANT_STRING("x")), RtlUnicodeStringCat(d, longer),
          RtlUnicodeStringCopy(nullBuffer, RTL_CONSTANT_STRING("x"))],
      };
    });
    expect(r.s1).toBe(STATUS_SUCCESS);
    expect(r.made).toEqual([10, "Edu#7"]);
    expect(r.invalid).toEqual([STATUS_INVALID_PARAMETER, STATUS_INVALID_PARAMETER, STATUS_INVALID_PARAMETER, STATUS_INVALID_PARAMETER]);
  });
});
