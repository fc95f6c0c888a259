// Every main-job workload writes the trace recorded in test/golden/traces.json, byte for
// byte: changes that must not alter behaviour (optimisations, refactors) are held to it.
// After a deliberate change in behaviour, record anew with `tsx scripts/golden-traces.ts --update`.
import { describe, expect, it } from "vitest";
import { GOLDEN_RUNS, recordedDigests, traceDigest } from "../../scripts/golden-traces.js";

describe("golden traces", () => {
  const recorded = recordedDigests();
  for (const name of Object.keys(GOLDEN_RUNS)) {
    it(`wdmsim run ${GOLDEN_RUNS[name].join(" ")} writes the recorded trace`, () => {
      expect(traceDigest(name)).toBe(recorded[name]);
    }, 60_000);
  }
});
