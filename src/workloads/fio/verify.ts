/**
 * verify=crc32c: every block written carries a header — magic, block length, byte offset
 * and the CRC-32C of the rest of the block, which holds random bytes — and reading it back
 * checks each field. A mismatch is reported in fio's words ("crc32c: verify failed at file
 * ... offset ..., length ..." with the expected and received CRC, or "verify: bad magic
 * header ..."), and fails the job with EILSEQ as fio does.
 *
 * Header layout (little-endian): magic u32 at 0, length u32 at 4, offset u64 at 8 (two
 * u32 words), CRC-32C u32 at 16 of bytes [20, length).
 */
import { crc32c } from "./crc32c.js";
import type { FioRandom } from "./random.js";

/** The header's magic (fio's verify header magic is the same value). */
export const VERIFY_MAGIC = 0xACCA;
/** Bytes of the header, at the start of every block. */
export const VERIFY_HEADER_SIZE = 20;
/** fio's error number for a verify failure (EILSEQ) and its text. */
export const EILSEQ = 84;
export const EILSEQ_TEXT = "Invalid or incomplete multibyte or wide character";

function put32(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xFF;
  b[at + 1] = (v >>> 8) & 0xFF;
  b[at + 2] = (v >>> 16) & 0xFF;
  b[at + 3] = (v >>> 24) & 0xFF;
}

function get32(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}

/** Fills bytes [0, length) of `block` for the block at byte `offset`: header, then random data. */
export function fillVerifyBlock(block: Uint8Array, length: number, offset: number, random: FioRandom): void {
  for (let i = VERIFY_HEADER_SIZE; i + 4 <= length; i += 4) put32(block, i, random.nextU32());
  for (let i = length - (length - VERIFY_HEADER_SIZE) % 4; i < length; i++) block[i] = random.nextU32() & 0xFF;
  put32(block, 0, VERIFY_MAGIC);
  put32(block, 4, length);
  put32(block, 8, offset % 2 ** 32);
  put32(block, 12, Math.floor(offset / 2 ** 32));
  put32(block, 16, crc32c(block, VERIFY_HEADER_SIZE, length));
}

/** A CRC as fio's hexdump prints it: its bytes in memory (little-endian) order. */
function crcBytes(v: number): string {
  let s = "";
  for (let i = 0; i < 4; i++) s += ((v >>> (8 * i)) & 0xFF).toString(16).padStart(2, "0");
  return s;
}

/**
 * Checks bytes [0, length) of `block`, read from byte `offset` of `file`. Returns null if
 * the block is intact, else fio's message lines.
 */
export function checkVerifyBlock(block: Uint8Array, length: number, offset: number, file: string): string[] | null {
  const where = ` at file ${file} offset ${offset}, length ${length} (requested block: offset=${offset}, length=${length})`;
  const magic = get32(block, 0);
  if (magic !== VERIFY_MAGIC) return [`verify: bad magic header ${magic.toString(16)}, wanted ${VERIFY_MAGIC.toString(16)}${where}`];
  const len = get32(block, 4);
  if (len !== length) return [`verify: bad header length ${len}, wanted ${length}${where}`];
  const at = get32(block, 8) + get32(block, 12) * 2 ** 32;
  if (at !== offset) return [`verify: bad header offset ${at}, wanted ${offset}${where}`];
  const expected = get32(block, 16);
  const received = crc32c(block, VERIFY_HEADER_SIZE, length);
  if (expected === received) return null;
  return [
    `crc32c: verify failed at file ${file} offset ${offset}, length ${length} (requested block: offset=${offset}, length=${length})`,
    `       Expected CRC: ${crcBytes(expected)}`,
    `       Received CRC: ${crcBytes(received)}`,
  ];
}
