// Logs kept for later inspection in bounded memory (src/trace/bounded-log.ts): never more
// than their capacity, the entries they promise (the first or the latest), and an exact
// count of what they dropped.
import { describe, expect, it } from "vitest";
import { BoundedLog } from "../../src/trace/bounded-log.js";

describe("BoundedLog", () => {
  it("keeping the latest: a ring of the newest entries, oldest first, and how many were dropped", () => {
    const log = new BoundedLog<number>(4, "latest");
    for (let i = 1; i <= 3; i++) log.add(i);
    expect(log.entries()).toEqual([1, 2, 3]);
    expect(log.dropped).toBe(0);
    for (let i = 4; i <= 1000; i++) log.add(i);
    expect(log.length).toBe(4);
    expect(log.entries()).toEqual([997, 998, 999, 1000]);
    expect(log.dropped).toBe(996);
    expect(log.offered).toBe(1000);
  });

  it("keeping the first: entries past the capacity are counted, and a group that does not fit whole is dropped whole", () => {
    const log = new BoundedLog<string>(5, "first");
    log.add("a1", "a2");
    log.add("b1", "b2");
    log.add("c1", "c2");
    log.add("d");
    expect(log.entries()).toEqual(["a1", "a2", "b1", "b2", "d"]);
    expect(log.dropped).toBe(2);
    for (let i = 0; i < 100; i++) log.add("x");
    expect(log.length).toBe(5);
    expect(log.offered).toBe(107);
  });

  it("needs a capacity of at least one", () => {
    expect(() => new BoundedLog(0, "latest")).toThrow(RangeError);
  });
});
