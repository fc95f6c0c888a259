import { test } from "vitest";
import { boot, toChromeTrace } from "../src/index.js";
import { runEduWorkload } from "../src/workloads/edu.js";
test("timing", async () => {
  let t = performance.now();
  const m = await boot("default");
  console.log("boot", performance.now() - t); t = performance.now();
  const r = await runEduWorkload(m);
  console.log("workload", performance.now() - t, r.ok, JSON.stringify(r).slice(0, 300));
  t = performance.now();
  const m2 = await boot("default", { trace: true });
  await runEduWorkload(m2);
  const k = (m2.kernel as any).k;
  console.log("trace boot+wl", performance.now() - t, toChromeTrace(k.recorder).length);
  const m3 = await boot("default", { trace: true });
  await runEduWorkload(m3);
  const a = toChromeTrace(k.recorder), b = toChromeTrace((m3.kernel as any).k.recorder);
  console.log("same", a === b, a.length, b.length);
  const la = a.split("\n"), lb = b.split("\n");
  for (let i = 0; i < la.length; i++) if (la[i] !== lb[i]) { console.log(la[i], "\n", lb[i]); break; }
});
