// A series of numbers as one line of block characters (▁▂▃▄▅▆▇█), for `ntp status --watch`.

/** The eight levels, lowest first. */
export const SPARK_BARS = "▁▂▃▄▅▆▇█";

/**
 * `values` as exactly `widthChars` block characters, scaled from the smallest to the largest
 * finite value (a constant series is all middle bars). With more values than characters, each
 * character shows the mean of its share of the values; with fewer, the values fill the right end
 * (newest last) and the left is blank. NaN and infinite values, and columns without any value,
 * are spaces.
 *
 * @example
 * ```ts
 * sparkline([1, 2, 3, 4, 5, 6, 7, 8], 8); // "▁▂▃▄▅▆▇█"
 * sparkline([5, 5, 5], 3); // "▄▄▄"
 * sparkline([1, Number.NaN, 2], 5); // "  ▁ █"
 * sparkline([], 4); // "    "
 * ```
 */
export function sparkline(values: readonly number[], widthChars: number): string {
  const width = Math.max(0, Math.floor(widthChars));
  if (width === 0) return "";
  const columns = columnValues(values, width);
  const finite = columns.filter(Number.isFinite);
  if (finite.length === 0) return " ".repeat(width);
  const low = Math.min(...finite);
  const high = Math.max(...finite);
  const span = high - low;
  const top = SPARK_BARS.length - 1;
  let line = "";
  for (const value of columns) {
    if (!Number.isFinite(value)) {
      line += " ";
      continue;
    }
    // A span that overflows (values near ±Number.MAX_VALUE) is measured in halves.
    const fraction = span === 0
      ? 0.5
      : Number.isFinite(span)
      ? (value - low) / span
      : (value / 2 - low / 2) / (high / 2 - low / 2);
    const level = span === 0 ? Math.floor(top / 2) : Math.round(fraction * top);
    line += SPARK_BARS[Math.min(top, Math.max(0, level))];
  }
  return line;
}

/** One value per column: the values themselves right-aligned, or bucket means. */
function columnValues(values: readonly number[], width: number): number[] {
  if (values.length <= width) {
    return [...new Array<number>(width - values.length).fill(Number.NaN), ...values];
  }
  const columns: number[] = [];
  for (let column = 0; column < width; column++) {
    const start = Math.floor(column * values.length / width);
    const end = Math.floor((column + 1) * values.length / width);
    const bucket = values.slice(start, end).filter(Number.isFinite);
    // Mean in two steps so that huge values do not overflow the sum.
    columns.push(
      bucket.length === 0
        ? Number.NaN
        : bucket.reduce((sum, value) => sum + value / bucket.length, 0),
    );
  }
  return columns;
}
