// Shared test helpers for the core tests: hex conversion, client addresses, and captured NTP payloads.
import ipaddr from "ipaddr.js";
import type { ClientAddress, RestrictFlag, RestrictRule } from "../../src/core/server/types.ts";

/** Bytes from a hex string (whitespace ignored). */
export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/\s+/g, "");
  const bytes = new Uint8Array(clean.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

/** Lower-case hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Network-order bytes of an IPv4 or IPv6 address in text form. */
export function addressBytes(text: string): Uint8Array {
  return new Uint8Array(ipaddr.parse(text).toByteArray());
}

/** A ClientAddress for `text` (IPv4 or IPv6) and `port`. */
export function clientAt(text: string, port = 40000): ClientAddress {
  const bytes = addressBytes(text);
  return { family: bytes.length === 4 ? 4 : 6, bytes, port };
}

/**
 * 48-byte mode 3 payloads captured from real clients (ntpdig, check_ntp_time, chronyd and
 * scapy, on the team's interop machine).
 */
export const capturedRequests = {
  ntpdig:
    "e3000000000000000000000000000000000000000000000000000000000000000000000000000000eeb5294ad8a36000",
  checkNtpTime1:
    "e30004fa000100000001000000000000000000000000000000000000000000000000000000000000eeb5294b5ca79357",
  checkNtpTime2:
    "e30004fa000100000001000000000000000000000000000000000000000000000000000000000000eeb5294b5cadff82",
  chronyd1:
    "23000620000000000000000000000000000000000000000000000000000000000000000000000000d17ad116d40cf153",
  chronyd2:
    "2300062000000000000000000000000000000000000000000000000000000000000000000000000051a77fddcdba9cda",
  scapy:
    "23000000000000000000000000000000000000000000000000000000000000000000000000000000eeb5294ef5b8d10e",
} as const;

/** ntpdig -> ntpd exchange (captured with tshark), UDP payloads. */
export const ntpdExchange = {
  request:
    "e3000000000000000000000000000000000000000000000000000000000000000000000000000000eeb527e0c3c1f000",
  reply:
    "240300e800000003000000500a7b0001eeb527d186e0d926eeb527e0c3c1f000eeb527e0c3c88bfeeeb527e0c3cf61f9",
} as const;

/** ntpdig -> chronyd exchange (captured with tshark), UDP payloads. */
export const chronydExchange = {
  request:
    "e3000000000000000000000000000000000000000000000000000000000000000000000000000000eeb5290c5d7dd000",
  reply:
    "240200e600000000000000007f7f0101eeb528de09001d71eeb5290c5d7dd000eeb5290c5d820c0feeb5290c5e14ff0e",
} as const;

/**
 * A restrict rule from "default4", "default6", a host address or a CIDR ("10.0.0.0/8"),
 * built the way the config layer does (network already masked).
 */
export function ruleFor(
  target: string,
  flags: readonly RestrictFlag[],
): RestrictRule {
  if (target === "default4" || target === "default6") {
    const length = target === "default4" ? 4 : 16;
    return {
      family: length === 4 ? 4 : 6,
      network: new Uint8Array(length),
      mask: new Uint8Array(length),
      flags,
    };
  }
  const [addressText, prefixText] = target.split("/");
  const network = addressBytes(addressText ?? "");
  const prefixBits = prefixText === undefined ? network.length * 8 : Number(prefixText);
  const mask = new Uint8Array(network.length);
  for (let bit = 0; bit < prefixBits; bit++) {
    mask[bit >> 3] = (mask[bit >> 3] as number) | (0x80 >> (bit & 7));
  }
  for (let i = 0; i < network.length; i++) {
    network[i] = (network[i] as number) & (mask[i] as number);
  }
  return { family: network.length === 4 ? 4 : 6, network, mask, flags };
}
