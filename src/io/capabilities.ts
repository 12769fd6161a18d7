// Reads this process's effective Linux capabilities from /proc, to choose the clock driver.

/** Bit numbers of the capabilities we care about (linux/capability.h). */
export const Capability = { netBindService: 10, sysTime: 25 } as const;

/** Parses the CapEff line of /proc/PID/status into a bigint mask; 0n when absent. */
export function parseEffectiveCapabilities(statusText: string): bigint {
  const match = /^CapEff:\s*([0-9a-fA-F]+)\s*$/m.exec(statusText);
  return match?.[1] ? BigInt(`0x${match[1]}`) : 0n;
}

/** True when this process holds the capability in its effective set. */
export function hasCapability(bit: number): boolean {
  try {
    const mask = parseEffectiveCapabilities(Deno.readTextFileSync("/proc/self/status"));
    return ((mask >> BigInt(bit)) & 1n) === 1n;
  } catch {
    return false;
  }
}
