// The statistics lines' numbers are C's %.Nf to the byte: 5000 values (random, exact binary ties, negative zero, tiny and large) printed by glibc's printf and by formatFixed.
import assert from "node:assert/strict";
import fc from "fast-check";
import { formatFixed } from "../../src/core/stats/stats_lines.ts";

const program = `#include <stdio.h>
#include <stdlib.h>
int main(void) {
  char value[64]; int decimals;
  while (scanf("%63s %d", value, &decimals) == 2) printf("%.*f\\n", decimals, strtod(value, NULL));
  return 0;
}
`;

Deno.test('formatFixed() prints what glibc\'s printf("%.*f") prints, ties to even included', async () => {
  const dir = await Deno.makeTempDir({ prefix: "ntpt-printf-" });
  try {
    await Deno.writeTextFile(`${dir}/printf.c`, program);
    const built = await new Deno.Command("gcc", {
      args: ["-O1", "-o", `${dir}/printf`, `${dir}/printf.c`],
    }).output();
    assert.equal(built.code, 0, new TextDecoder().decode(built.stderr));
    const decimals = fc.constantFrom(0, 3, 6, 9);
    const cases = fc.sample(
      fc.oneof(
        fc.tuple(fc.double({ min: -1e6, max: 1e6, noNaN: true }), decimals),
        // Exact binary ties at the last printed place: n / 2^(d+1), n odd.
        fc.tuple(fc.integer({ min: -100_000, max: 100_000 }), decimals).map((
          [n, d],
        ) => [(2 * n + 1) / 2 ** (d + 1), d] as [number, number]),
        fc.tuple(fc.double({ min: -1e-6, max: 1e-6, noNaN: true }), decimals),
        fc.tuple(fc.constantFrom(-0, 0, 0.5, 1.5, 2.5, 0.0078125, 1e15, -1e15), decimals),
      ),
      { numRuns: 5000, seed: 0x5eed },
    );
    // Each value goes to C as its shortest round-trip text, which strtod reads back exactly.
    const input = cases.map(([value, d]) => `${Object.is(value, -0) ? "-0" : value} ${d}`)
      .join("\n") + "\n";
    const child = new Deno.Command(`${dir}/printf`, { stdin: "piped", stdout: "piped" }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(input));
    await writer.close();
    const expected = new TextDecoder().decode((await child.output()).stdout).split("\n");
    const mismatches = cases
      .map(([value, d], i) => ({ value, d, c: expected[i], ours: formatFixed(value, d) }))
      .filter((row) => row.c !== row.ours);
    assert.deepEqual(mismatches.slice(0, 10), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
