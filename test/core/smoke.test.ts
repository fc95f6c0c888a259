import { test, expect } from "vitest";
import { readyEdu, EDU, L } from "../support/core-harness.js";
test("smoke", () => {
  const h = readyEdu({ trace: true });
  expect(h.mmioRead(EDU.ID).toString(16)).toBe("10000ed");
  h.mmioWrite(EDU.LIVENESS, 0x12345678);
  expect(h.mmioRead(EDU.LIVENESS)).toBe(~0x12345678 >>> 0);
  console.log(h.mmioRead(0x04, 1).toString(16), h.now, h.cpuTime(), h.counters());
  console.log(h.drainTrace().slice(-5));
});
