// Reads this process's effective Linux capabilities with capget(2), to choose the clock driver
// and explain bind failures. (Deno refuses to read /proc/self/status without --allow-all.)
import { ffiPermitted, openLibc } from "./libc.ts";

/** Bit numbers of the capabilities we care about (linux/capability.h). */
export const Capability = { netBindService: 10, sysTime: 25 } as const;

/** _LINUX_CAPABILITY_VERSION_3: two 32-bit words per set. */
const capabilityVersion3 = 0x20080522;

/**
 * Whether bit `bit` is set in a capget(2) data array (struct __user_cap_data_struct[2]:
 * effective, permitted, inheritable as u32 each, little-endian on our targets).
 */
export function effectiveBitSet(data: Uint8Array, bit: number): boolean {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const word = bit < 32 ? view.getUint32(0, true) : view.getUint32(12, true);
  return ((word >>> (bit % 32)) & 1) === 1;
}

/** True when this process holds the capability in its effective set; false if it cannot tell. */
export function hasCapability(bit: number): boolean {
  if (!ffiPermitted()) return false;
  try {
    const header = new Uint8Array(8);
    new DataView(header.buffer).setUint32(0, capabilityVersion3, true); // pid 0 = this process
    const data = new Uint8Array(24);
    if (openLibc().symbols.capget(header, data) !== 0) return false;
    return effectiveBitSet(data, bit);
  } catch {
    return false;
  }
}
