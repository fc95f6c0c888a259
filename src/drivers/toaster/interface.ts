/**
 * TOASTER_INTERFACE_STANDARD: the toaster bus's direct-call interface for its children,
 * handed out through IRP_MN_QUERY_INTERFACE (GUID_TOASTER_INTERFACE_STANDARD, version 1).
 */
import { INTERFACE } from "../../pnp/interface.js";

/** TOASTER_INTERFACE_STANDARD. */
export class TOASTER_INTERFACE_STANDARD extends INTERFACE {
  /** sizeof(TOASTER_INTERFACE_STANDARD) on x64. */
  static readonly SIZE = 0x38;
  /** The toaster's crispiness level (0..9). */
  GetCrispinessLevel: (Context: unknown) => number = () => 0;
  /** Sets the crispiness level; FALSE when out of range. */
  SetCrispinessLevel: (Context: unknown, Level: number) => boolean = () => false;
  /** TRUE while the toaster's safety lock is on. */
  IsSafetyLockEnabled: (Context: unknown) => boolean = () => false;
}
