/**
 * The port driver's surface to miniports, as storport.h gathers it: the types and codes,
 * StorPortInitialize and every StorPort* service. A miniport imports from here.
 */
export * from "./storport.js";
export { StorPortInitialize } from "./initialize.js";
export * from "./services.js";
export type { RAID_TIMER as STOR_TIMER } from "./adapter.js";
