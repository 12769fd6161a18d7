// Access rules (ntp.conf `restrict`): compile once, then find the most specific rule for a client.
import type { ClientAddress, RestrictFlag, RestrictRule } from "./types.ts";

/** Bit of each restrict flag in a {@link RestrictFlags} mask. */
export const RestrictBit: Readonly<Record<RestrictFlag, number>> = Object.freeze({
  ignore: 1,
  noserve: 2,
  noquery: 4,
  nomodify: 8,
  notrap: 16,
  nopeer: 32,
  kod: 64,
  limited: 128,
});

/** A bitmask of {@link RestrictBit} values; 0 means no restrictions. */
export type RestrictFlags = number;

/**
 * Rules in matching order (longest mask first), as flat typed arrays. IPv4 rules use one
 * uint32 word per network/mask, IPv6 rules four.
 */
export interface CompiledRestrict {
  readonly v4Networks: Uint32Array;
  readonly v4Masks: Uint32Array;
  readonly v4Flags: Int32Array;
  readonly v6Networks: Uint32Array;
  readonly v6Masks: Uint32Array;
  readonly v6Flags: Int32Array;
}

/**
 * The bitmask for a list of flag names.
 *
 * @example
 * ```ts
 * flagsFromNames(["kod", "limited"]); // RestrictBit.kod | RestrictBit.limited
 * ```
 */
export function flagsFromNames(names: readonly RestrictFlag[]): RestrictFlags {
  let flags = 0;
  for (const name of names) flags |= RestrictBit[name];
  return flags;
}

/**
 * The flag names set in a bitmask, in {@link RestrictBit} order.
 *
 * @example
 * ```ts
 * namesFromFlags(RestrictBit.noquery); // ["noquery"]
 * ```
 */
export function namesFromFlags(flags: RestrictFlags): RestrictFlag[] {
  return (Object.keys(RestrictBit) as RestrictFlag[]).filter((name) =>
    (flags & RestrictBit[name]) !== 0
  );
}

function wordAt(bytes: Uint8Array, offset: number): number {
  return (((bytes[offset] ?? 0) << 24) | ((bytes[offset + 1] ?? 0) << 16) |
    ((bytes[offset + 2] ?? 0) << 8) | (bytes[offset + 3] ?? 0)) >>> 0;
}

function popCount32(word: number): number {
  let v = word - ((word >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

interface WorkingRule {
  readonly words: number;
  readonly network: number[];
  readonly mask: number[];
  flags: number;
  readonly maskBits: number;
  readonly order: number;
}

function compileFamily(rules: readonly RestrictRule[], family: 4 | 6): {
  networks: Uint32Array;
  masks: Uint32Array;
  flags: Int32Array;
} {
  const words = family === 4 ? 1 : 4;
  const merged = new Map<string, WorkingRule>();
  let order = 0;
  for (const rule of rules) {
    if (rule.family !== family) continue;
    if (rule.network.length !== words * 4 || rule.mask.length !== words * 4) {
      throw new RangeError(
        `Cannot compile restrict rule: IPv${family} network and mask need ${words * 4} bytes`,
      );
    }
    const mask: number[] = [];
    const network: number[] = [];
    let maskBits = 0;
    for (let w = 0; w < words; w++) {
      const maskWord = wordAt(rule.mask, w * 4);
      mask.push(maskWord);
      network.push((wordAt(rule.network, w * 4) & maskWord) >>> 0);
      maskBits += popCount32(maskWord);
    }
    const key = `${network.join(",")}/${mask.join(",")}`;
    const existing = merged.get(key);
    const flags = flagsFromNames(rule.flags);
    if (existing !== undefined) {
      // As ntpd: a second `restrict` for the same address and mask adds its flags.
      existing.flags |= flags;
    } else {
      merged.set(key, { words, network, mask, flags, maskBits, order: order++ });
    }
  }
  const sorted = [...merged.values()].sort((a, b) => b.maskBits - a.maskBits || a.order - b.order);
  const networks = new Uint32Array(sorted.length * words);
  const masks = new Uint32Array(sorted.length * words);
  const flags = new Int32Array(sorted.length);
  sorted.forEach((rule, index) => {
    for (let w = 0; w < words; w++) {
      networks[index * words + w] = rule.network[w] as number;
      masks[index * words + w] = rule.mask[w] as number;
    }
    flags[index] = rule.flags;
  });
  return { networks, masks, flags };
}

/**
 * Compiles rules for {@link lookupRestrict}: networks are masked, rules with the same family,
 * network and mask are merged (flags OR-ed, as ntpd does), and each family is sorted by
 * mask length, longest first, so that the first match is the most specific.
 *
 * @throws {RangeError} If a rule's network or mask length does not fit its family.
 * @example
 * ```ts
 * const compiled = compileRestrict([
 *   { family: 4, network: new Uint8Array(4), mask: new Uint8Array(4), flags: ["kod", "limited", "noquery"] },
 *   { family: 4, network: new Uint8Array([127, 0, 0, 1]), mask: new Uint8Array([255, 255, 255, 255]), flags: [] },
 * ]);
 * ```
 */
export function compileRestrict(rules: readonly RestrictRule[]): CompiledRestrict {
  const v4 = compileFamily(rules, 4);
  const v6 = compileFamily(rules, 6);
  return {
    v4Networks: v4.networks,
    v4Masks: v4.masks,
    v4Flags: v4.flags,
    v6Networks: v6.networks,
    v6Masks: v6.masks,
    v6Flags: v6.flags,
  };
}

/**
 * The flags of the most specific rule matching `client` (longest mask wins, as in ntpd);
 * 0 (no restrictions) when no rule of its family matches. Allocates nothing.
 *
 * @example
 * ```ts
 * import type { CompiledRestrict } from "./restrict.ts";
 * declare const compiled: CompiledRestrict;
 * const flags = lookupRestrict(compiled, { family: 4, bytes: new Uint8Array([192, 0, 2, 1]), port: 123 });
 * const drop = (flags & RestrictBit.ignore) !== 0; // ignore: no answer at all
 * ```
 */
export function lookupRestrict(compiled: CompiledRestrict, client: ClientAddress): RestrictFlags {
  const bytes = client.bytes;
  if (client.family === 4) {
    const address = wordAt(bytes, 0);
    const masks = compiled.v4Masks;
    const networks = compiled.v4Networks;
    for (let i = 0; i < masks.length; i++) {
      if (((address & (masks[i] as number)) >>> 0) === networks[i]) {
        return compiled.v4Flags[i] as number;
      }
    }
    return 0;
  }
  const w0 = wordAt(bytes, 0);
  const w1 = wordAt(bytes, 4);
  const w2 = wordAt(bytes, 8);
  const w3 = wordAt(bytes, 12);
  const masks = compiled.v6Masks;
  const networks = compiled.v6Networks;
  const count = compiled.v6Flags.length;
  for (let i = 0, j = 0; i < count; i++, j += 4) {
    if (
      ((w0 & (masks[j] as number)) >>> 0) === networks[j] &&
      ((w1 & (masks[j + 1] as number)) >>> 0) === networks[j + 1] &&
      ((w2 & (masks[j + 2] as number)) >>> 0) === networks[j + 2] &&
      ((w3 & (masks[j + 3] as number)) >>> 0) === networks[j + 3]
    ) {
      return compiled.v6Flags[i] as number;
    }
  }
  return 0;
}
