// Address syntax of the config: HOST[:PORT], [IPv6]:PORT, IP literals, CIDR networks and netmasks.
import {
  formatIpAddress,
  isIpv4Mapped,
  parseIpAddress,
  parseIpv4,
  parseIpv6,
  prefixLengthOfMask,
} from "../core/address/ip_text.ts";

/** A parse that either gives a value or says, in words for the user, what is wrong. */
export type Parsed<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly message: string };

/** A host with an optional port, as written in `address = "..."` or `listen = [...]`. */
export interface HostPort {
  /** Lower-case DNS name without a trailing dot, or a canonical IP literal (IPv6 without brackets). */
  readonly host: string;
  /** The port when one was written. */
  readonly port: number | null;
  /** 4 or 6 for an IP literal, null for a name. */
  readonly literalFamily: 4 | 6 | null;
}

/** A network of a restrict rule. */
export interface Network {
  readonly family: 4 | 6;
  /** Canonical text of the network address, host bits cleared. */
  readonly network: string;
  readonly prefixLength: number;
  /** The written address had bits set beyond the prefix (they were cleared). */
  readonly hostBitsSet: boolean;
}

const labelPattern = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(message: string): Parsed<T> => ({ ok: false, message });

/** Parses an IP literal in strict syntax (dotted quad without leading zeros, or IPv6 without zone). */
export function parseIpLiteral(text: string): Parsed<{ family: 4 | 6; canonical: string }> {
  const v4 = parseIpv4(text);
  if (v4 !== null) return ok({ family: 4, canonical: formatIpAddress(v4) });
  if (text.includes(":")) {
    if (text.includes("%")) {
      return fail(`"${text}": IPv6 zone indexes (%...) are not supported yet`);
    }
    const v6 = parseIpv6(text);
    if (v6 !== null) return ok({ family: 6, canonical: formatIpAddress(v6) });
    return fail(`"${text}" is not a valid IPv6 address`);
  }
  if (/^[0-9.]+$/.test(text)) return fail(`"${text}" is not a valid IPv4 address`);
  return fail(`"${text}" is not an IP address`);
}

function parseHostName(text: string): Parsed<string> {
  const name = (text.endsWith(".") ? text.slice(0, -1) : text).toLowerCase();
  const labels = name.split(".");
  const last = labels[labels.length - 1] ?? "";
  if (/^[0-9]+$/.test(last)) return fail(`"${text}" is not a valid IPv4 address`);
  if (name.length === 0 || name.length > 253 || !labels.every((l) => labelPattern.test(l))) {
    return fail(`"${text}" is not a valid host name or IP address`);
  }
  return ok(name);
}

function parsePort(text: string, options: { allowZero: boolean }): Parsed<number> {
  const min = options.allowZero ? 0 : 1;
  if (!/^[0-9]{1,5}$/.test(text)) {
    return fail(`port "${text}" is not a number from ${min} to 65535`);
  }
  const port = Number(text);
  if (port < min || port > 65535) return fail(`port ${port} is out of range ${min}..65535`);
  return ok(port);
}

/**
 * Parses `HOST`, `HOST:PORT`, `IPv4`, `IPv4:PORT`, `IPv6`, `[IPv6]` or `[IPv6]:PORT`.
 *
 * @example
 * ```ts
 * parseHostPort("[2001:DB8::1]:1123", { allowPortZero: false });
 * // { ok: true, value: { host: "2001:db8::1", port: 1123, literalFamily: 6 } }
 * ```
 */
export function parseHostPort(text: string, options: { allowPortZero: boolean }): Parsed<HostPort> {
  const portOptions = { allowZero: options.allowPortZero };
  if (text.length === 0) return fail("the address is empty");
  if (/\s/.test(text)) return fail(`"${text}" contains white space`);
  if (text.startsWith("[")) {
    const match = /^\[([^\]]*)\](?::(.*))?$/.exec(text);
    if (!match) return fail(`"${text}" is not of the form [IPv6] or [IPv6]:PORT`);
    const ip = parseIpLiteral(match[1] ?? "");
    if (!ip.ok) return ip;
    if (ip.value.family !== 6) return fail(`"${text}": only IPv6 addresses go in brackets`);
    if (match[2] === undefined) {
      return ok({ host: ip.value.canonical, port: null, literalFamily: 6 });
    }
    const port = parsePort(match[2], portOptions);
    if (!port.ok) return port;
    return ok({ host: ip.value.canonical, port: port.value, literalFamily: 6 });
  }
  const colons = text.split(":").length - 1;
  if (colons > 1) {
    const ip = parseIpLiteral(text);
    if (!ip.ok) {
      return fail(`${ip.message}; an IPv6 address with a port is written [IPv6]:PORT`);
    }
    return ok({ host: ip.value.canonical, port: null, literalFamily: 6 });
  }
  const [hostText = "", portText] = text.split(":");
  let port: number | null = null;
  if (portText !== undefined) {
    const parsed = parsePort(portText, portOptions);
    if (!parsed.ok) return parsed;
    port = parsed.value;
  }
  const v4 = parseIpv4(hostText);
  if (v4 !== null) return ok({ host: formatIpAddress(v4), port, literalFamily: 4 });
  const name = parseHostName(hostText);
  if (!name.ok) return name;
  return ok({ host: name.value, port, literalFamily: null });
}

/** Network-order bytes of a canonical IP literal. */
export function ipBytes(canonical: string): Uint8Array {
  const parsed = parseIpAddress(canonical);
  if (parsed === null) throw new RangeError(`"${canonical}" is not an IP address`);
  return parsed.bytes;
}

/** Mask bytes for a prefix length: 4 bytes for IPv4, 16 for IPv6. */
export function prefixMaskBytes(family: 4 | 6, prefixLength: number): Uint8Array {
  const mask = new Uint8Array(family === 4 ? 4 : 16);
  for (let bit = 0; bit < prefixLength; bit++) {
    mask[bit >> 3] = (mask[bit >> 3] ?? 0) | (0x80 >> (bit & 7));
  }
  return mask;
}

/** Text of an address given as bytes (4 or 16), in canonical form. */
export function bytesToText(bytes: Uint8Array): string {
  return formatIpAddress(bytes);
}

function maskedNetwork(
  ip: { readonly canonical: string; readonly family: 4 | 6 },
  prefixLength: number,
): Network {
  const { canonical, family } = ip;
  const bytes = ipBytes(canonical);
  const mask = prefixMaskBytes(family, prefixLength);
  const network = bytes.map((byte, k) => byte & (mask[k] ?? 0));
  return {
    family,
    network: bytesToText(network),
    prefixLength,
    hostBitsSet: network.some((byte, k) => byte !== bytes[k]),
  };
}

/**
 * Parses a restrict address: an IP literal (a host: full-length prefix) or a CIDR network.
 * Host names are refused; IPv4-mapped IPv6 addresses are refused in favour of their IPv4 form.
 */
export function parseNetwork(text: string): Parsed<Network> {
  const slash = text.lastIndexOf("/");
  const addressText = slash < 0 ? text : text.slice(0, slash);
  const ip = parseIpLiteral(addressText);
  if (!ip.ok) {
    return fail(
      ip.message.endsWith("is not an IP address")
        ? `"${text}" is not "default", an IP address or a CIDR network like 10.0.0.0/8 ` +
          `(host names are not supported yet)`
        : ip.message,
    );
  }
  const { family, canonical } = ip.value;
  const bytes = ipBytes(canonical);
  if (family === 6 && isIpv4Mapped(bytes)) {
    const v4 = formatIpAddress(bytes.subarray(12));
    return fail(`"${text}" is an IPv4-mapped IPv6 address; write it as IPv4 (${v4})`);
  }
  const maxPrefix = family === 4 ? 32 : 128;
  if (slash < 0) return ok(maskedNetwork(ip.value, maxPrefix));
  const prefixText = text.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(prefixText) || Number(prefixText) > maxPrefix) {
    return fail(
      `"${text}": prefix length "${prefixText}" is out of range for IPv${family} (0..${maxPrefix})`,
    );
  }
  return ok(maskedNetwork(ip.value, Number(prefixText)));
}

/**
 * Parses a netmask (`255.255.255.0`, `ffff:ffff::`) of the given family into a prefix length;
 * non-contiguous masks are refused.
 */
export function parseMask(text: string, family: 4 | 6): Parsed<number> {
  const ip = parseIpLiteral(text);
  if (!ip.ok) return fail(`mask ${ip.message}`);
  if (ip.value.family !== family) {
    return fail(`mask "${text}" is IPv${ip.value.family} but the address is IPv${family}`);
  }
  const prefix = prefixLengthOfMask(ipBytes(ip.value.canonical));
  if (prefix === null) {
    return fail(
      `mask "${text}" is not contiguous; only masks of leading one bits (like ${
        family === 4 ? "255.255.255.0" : "ffff:ffff:ffff:ffff::"
      }) are supported`,
    );
  }
  return ok(prefix);
}

/** Writes host and port the way `address = "..."` and `listen = [...]` accept them back. */
export function formatHostPort(host: string, port: number | null): string {
  const bracketed = host.includes(":") ? `[${host}]` : host;
  if (port === null) return host;
  return `${bracketed}:${port}`;
}
