// The machine's seeded generator: xoshiro256** seeded through splitmix64. Everything in
// a simulation that needs randomness draws from here, so a seed fixes a run.

import { core } from "./core";

/** SplitMix64's output function of `state`. */
export function splitmix(state: u64): u64 {
  let z = state + 0x9E3779B97F4A7C15;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
  return z ^ (z >> 31);
}

/** Seeds the generator from a 64-bit seed. */
export function randomSeed(seed: u64): void {
  let s = seed;
  core.rng0 = splitmix(s); s += 0x9E3779B97F4A7C15;
  core.rng1 = splitmix(s); s += 0x9E3779B97F4A7C15;
  core.rng2 = splitmix(s); s += 0x9E3779B97F4A7C15;
  core.rng3 = splitmix(s);
}

/** Next 64 random bits. */
export function randomNext(): u64 {
  const s1 = core.rng1;
  const result = rotl<u64>(s1 * 5, 7) * 9;
  const t = s1 << 17;
  core.rng2 ^= core.rng0;
  core.rng3 ^= s1;
  core.rng1 = s1 ^ core.rng2;
  core.rng0 ^= core.rng3;
  core.rng2 ^= t;
  core.rng3 = rotl<u64>(core.rng3, 45);
  return result;
}

/** Uniform integer in [0, bound) for bound > 0 (Lemire's multiply-shift on the top 32 bits). */
export function randomBelow(bound: u32): u32 {
  const x = <u64>(randomNext() >> 32);
  return <u32>((x * <u64>bound) >> 32);
}
