// Doctor check: a listen address that smears leap seconds must not face the public Internet (the NTP pool forbids mixing smeared and true time); a wildcard one faces every address of the machine.
import { fail, type Finding, ok, warn } from "./finding.ts";

/** An address as text and as bytes: a smearing listen address, or one of the machine's. */
export interface NamedAddress {
  /** As written, e.g. "10.0.0.1:123", "[::]:123" or "203.0.113.5". */
  readonly text: string;
  /** Network-order address bytes (4 or 16). */
  readonly bytes: Uint8Array;
}

/** What the doctor knows about leap smearing. */
export interface LeapSmearFacts {
  /** `[leapsmear] interval`, seconds. */
  readonly intervalSeconds: number;
  readonly listeners: readonly NamedAddress[];
  /** The machine's interface addresses, for the wildcard listeners; null when unknown. */
  readonly hostAddresses: readonly NamedAddress[] | null;
}

const isZero = (bytes: Uint8Array) => bytes.every((b) => b === 0);

/**
 * Whether an address is reachable from the public Internet: not loopback, private (RFC 1918,
 * RFC 4193 fc00::/7), shared (100.64/10), link-local, or unspecified.
 *
 * @example
 * ```ts
 * isPublicAddress(new Uint8Array([10, 1, 2, 3])); // false
 * isPublicAddress(new Uint8Array([203, 0, 113, 5])); // true
 * ```
 */
export function isPublicAddress(bytes: Uint8Array): boolean {
  if (bytes.length === 16) {
    const mapped = bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff &&
      bytes[11] === 0xff;
    if (mapped) return isPublicAddress(bytes.subarray(12));
    if (isZero(bytes)) return false;
    if (isZero(bytes.subarray(0, 15)) && bytes[15] === 1) return false; // ::1
    if ((bytes[0]! & 0xfe) === 0xfc) return false; // fc00::/7
    if (bytes[0] === 0xfe && (bytes[1]! & 0xc0) === 0x80) return false; // fe80::/10
    return true;
  }
  const [a, b] = [bytes[0]!, bytes[1]!];
  if (a === 0 || a === 10 || a === 127) return false;
  if (a === 169 && b === 254) return false;
  if (a === 172 && b >= 16 && b <= 31) return false;
  if (a === 192 && b === 168) return false;
  if (a === 100 && b >= 64 && b <= 127) return false;
  return true;
}

/**
 * The "leapsmear" finding (null when smearing is off): FAIL when a smearing listen address is
 * public, or is a wildcard on a machine with a public address; OK naming the private ones.
 *
 * @example
 * ```ts
 * checkLeapSmear({
 *   intervalSeconds: 7200,
 *   listeners: [{ text: "10.0.0.1:123", bytes: new Uint8Array([10, 0, 0, 1]) }],
 *   hostAddresses: [],
 * })?.status; // "ok"
 * ```
 */
export function checkLeapSmear(facts: LeapSmearFacts | null): Finding | null {
  if (facts === null || facts.intervalSeconds === 0 || facts.listeners.length === 0) return null;
  const check = "leapsmear";
  const publicOnes: string[] = [];
  const unknown: string[] = [];
  for (const listener of facts.listeners) {
    if (isZero(listener.bytes)) {
      const family = listener.bytes.length;
      if (facts.hostAddresses === null) {
        unknown.push(listener.text);
        continue;
      }
      const exposed = facts.hostAddresses.filter((a) =>
        a.bytes.length === family && isPublicAddress(a.bytes)
      );
      if (exposed.length > 0) {
        publicOnes.push(`${listener.text} (answers on ${exposed.map((a) => a.text).join(", ")})`);
      }
    } else if (isPublicAddress(listener.bytes)) {
      publicOnes.push(listener.text);
    }
  }
  if (publicOnes.length > 0) {
    return fail(
      check,
      `leap seconds are smeared (${facts.intervalSeconds} s) on public address ${
        publicOnes.join(", ")
      }: the NTP pool forbids serving smeared time, and clients mixing smeared and true ` +
        "servers see a falseticker for hours around a leap",
      "smear only on private addresses: list them in [leapsmear] listen (and bind them in " +
        "listen), or remove [leapsmear] / leapsmearinterval",
    );
  }
  if (unknown.length > 0) {
    return warn(
      check,
      `leap seconds are smeared (${facts.intervalSeconds} s) on wildcard ${
        unknown.join(", ")
      }, and this machine's addresses could not be read: cannot tell whether it is public`,
      "smear only on private addresses, listed in [leapsmear] listen",
    );
  }
  return ok(
    check,
    `leap seconds are smeared over ${facts.intervalSeconds} s on ${
      facts.listeners.map((l) => l.text).join(", ")
    } (private addresses only)`,
  );
}
