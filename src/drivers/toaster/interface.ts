/**
 * TOASTER_INTERFACE_STANDARD: the toaster bus's direct-call interface for its children,
 * handed out through IRP_MN_QUERY_INTERFACE (GUID_TOASTER_INTERFACE_STANDARD, version 1).
 */
import { INTERFACE } from "../../pnp/interface.js";

/** What the bus keeps per toaster behind the interface's Context. */
export interface ToasterInterfaceContext {
  ToasterInterfaceRefCount: number;
  CrispinessLevel: number;
}

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

  /** The bus fills the routines for one toaster. */
  fill(context: ToasterInterfaceContext): void {
    this.Context = context;
    this.InterfaceReference = (c) => void (c as ToasterInterfaceContext).ToasterInterfaceRefCount++;
    this.InterfaceDereference = (c) => void (c as ToasterInterfaceContext).ToasterInterfaceRefCount--;
    this.GetCrispinessLevel = (c) => (c as ToasterInterfaceContext).CrispinessLevel;
    this.SetCrispinessLevel = (c, level) => {
      if (!Number.isInteger(level) || level < 0 || level > 9) return false;
      (c as ToasterInterfaceContext).CrispinessLevel = level;
      return true;
    };
    this.IsSafetyLockEnabled = () => true;
  }
}
