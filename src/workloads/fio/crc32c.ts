/**
 * CRC-32C (Castagnoli): reflected polynomial 0x82F63B78, initial value and final xor
 * 0xFFFFFFFF, as iSCSI, ext4 and fio's verify=crc32c use it. The check value of the
 * ASCII bytes "123456789" is 0xE3069283.
 */

/** The reflected Castagnoli polynomial. */
const POLY = 0x82F63B78;

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** The CRC-32C of bytes [start, end) of `data` (an unsigned 32-bit number). */
export function crc32c(data: Uint8Array, start = 0, end = data.length): number {
  let c = 0xFFFFFFFF;
  for (let i = start; i < end; i++) c = TABLE[(c ^ data[i]) & 0xFF] ^ (c >>> 8);
  return (c ^ 0xFFFFFFFF) >>> 0;
}
