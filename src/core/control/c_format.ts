// printf-compatible number formatting (%.Nf with round-half-even on exact ties, %Nd, %o), so output matches ntpq and ntpstat byte for byte.

/**
 * `value` with `decimals` decimals exactly as C's and Python's `%.Nf` write it: the binary
 * value is rounded to the nearest decimal, and an exact tie goes to the even digit (JavaScript's
 * toFixed would round 0.03125 to "0.0313"; printf gives "0.0312"). NaN gives "nan", infinities
 * "inf"/"-inf".
 *
 * @example
 * ```ts
 * formatC(0.03125, 4); // "0.0312"
 * ```
 */
export function formatC(value: number, decimals: number): string {
  if (Number.isNaN(value)) return "nan";
  if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
  const text = value.toFixed(decimals);
  if (!isExactTie(value, decimals)) return text;
  // toFixed rounded the tie away from zero; step back one unit when that digit is odd.
  const lastDigit = Number(text.at(-1));
  if (lastDigit % 2 === 0) return text;
  const magnitude = Math.abs(value);
  const down = (Math.floor(magnitude * 10 ** decimals) / 10 ** decimals).toFixed(decimals);
  return value < 0 ? `-${down}` : down;
}

/**
 * Right-aligns `text` in `width` columns (C's `%Ns`); longer text is kept whole.
 *
 * @example
 * ```ts
 * padStart("16", 4); // "  16"
 * ```
 */
export function padStart(text: string, width: number): string {
  return text.length >= width ? text : " ".repeat(width - text.length) + text;
}

/** True when |value| * 10^decimals lies exactly halfway between two integers. */
function isExactTie(value: number, decimals: number): boolean {
  const { mantissa, exponent } = decompose(Math.abs(value));
  if (mantissa === 0n) return false;
  // value = mantissa * 2^exponent; the tie test is: 2 * value * 10^d is an odd integer.
  let numerator = mantissa * 2n * 10n ** BigInt(decimals);
  if (exponent >= 0) return false;
  const denominatorBits = BigInt(-exponent);
  const denominator = 1n << denominatorBits;
  if (numerator % denominator !== 0n) return false;
  numerator /= denominator;
  return numerator % 2n === 1n;
}

/** Splits a finite non-negative double into an integer mantissa and a power-of-two exponent. */
function decompose(value: number): { mantissa: bigint; exponent: number } {
  if (value === 0) return { mantissa: 0n, exponent: 0 };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  if (biased === 0) return { mantissa: fraction, exponent: -1074 };
  return { mantissa: fraction | (1n << 52n), exponent: biased - 1075 };
}
