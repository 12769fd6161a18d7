// flagTokens(): --flag VALUE, --flag=VALUE, optional values and the errors that name the flag.
import assert from "node:assert/strict";
import { flagTokens, secondsFlag } from "../../src/cli/flag_reader.ts";
import { UsageError } from "../../src/cli/errors.ts";

function read(args: string[], optional = /^\d+$/): string[] {
  const seen: string[] = [];
  for (const token of flagTokens(args)) {
    if (token.flag === "--value") seen.push(`${token.flag}=${token.value()}`);
    else if (token.flag === "--maybe") seen.push(`${token.flag}=${token.optionalValue(optional)}`);
    else seen.push(token.arg);
  }
  return seen;
}

Deno.test("flagTokens() takes a value from the next argument or after '='", () => {
  assert.deepEqual(read(["--value", "a", "host", "--value=b=c", "-4"]), [
    "--value=a",
    "host",
    "--value=b=c",
    "-4",
  ]);
});

Deno.test("flagTokens() consumes an optional value only when it matches", () => {
  assert.deepEqual(read(["--maybe", "5", "--maybe", "x", "--maybe"]), [
    "--maybe=5",
    "--maybe=undefined",
    "x",
    "--maybe=undefined",
  ]);
  assert.deepEqual(read(["--maybe=7"]), ["--maybe=7"]);
});

Deno.test("a missing or empty value is a UsageError naming the flag", () => {
  assert.throws(() => read(["--value"]), new UsageError("--value needs a value"));
  assert.throws(() => read(["--value="]), new UsageError("--value needs a value"));
});

Deno.test("secondsFlag() accepts (0, max] and names the flag otherwise", () => {
  assert.equal(secondsFlag("--timeout", "2.5", 60), 2.5);
  assert.throws(() => secondsFlag("--timeout", "0", 60), /--timeout: '0' is not a number/);
  assert.throws(() => secondsFlag("--timeout", "61", 60), /\(0, 60\]/);
  assert.throws(() => secondsFlag("--watch", "soon", 60), /--watch: 'soon'/);
});
