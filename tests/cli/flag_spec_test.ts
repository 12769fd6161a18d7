// parseFlags() and flagHelp(): one table per command gives its parsing and its help lines; errors name the flag.
import assert from "node:assert/strict";
import { UsageError } from "../../src/cli/errors.ts";
import {
  choiceFlag,
  flagHelp,
  listFlag,
  optionalValueFlag,
  parseFlags,
  secondsFlag,
  switchFlag,
  valueFlag,
  wholeNumberFlag,
} from "../../src/cli/flag_spec.ts";

const table = {
  value: valueFlag(["--value", "-v"], "TEXT", "a value", (text) => text),
  list: listFlag(
    ["--list"],
    "N",
    "repeatable",
    (text, flag) => wholeNumberFlag(flag, text, { min: 1, max: 9 }),
  ),
  maybe: optionalValueFlag(
    ["--maybe"],
    "SECONDS",
    "optional value\nsecond line",
    { accept: /^\d+$/, whenBare: 2 },
    (text, flag) => secondsFlag(flag, text, 60),
  ),
  json: switchFlag(["--json"], "a switch"),
  mode: valueFlag(["--mode"], "M", "a choice", choiceFlag(["a", "b"] as const)),
};

Deno.test("parseFlags() takes values from the next argument or after '=', aliases included", () => {
  const { values, positionals } = parseFlags("demo", table, [
    "--value",
    "a",
    "host",
    "-v",
    "b=c",
    "--list=3",
    "--list",
    "4",
  ], { maxPositionals: 1 });
  assert.deepEqual(values, {
    value: "b=c",
    list: [3, 4],
    maybe: undefined,
    json: false,
    mode: undefined,
  });
  assert.deepEqual(positionals, ["host"]);
  assert.equal(parseFlags("demo", table, ["--value=x=y"]).values.value, "x=y");
});

Deno.test("parseFlags() consumes an optional value only when it matches", () => {
  assert.equal(parseFlags("demo", table, ["--maybe", "5"]).values.maybe, 5);
  assert.equal(parseFlags("demo", table, ["--maybe", "--json"]).values.maybe, 2);
  assert.equal(parseFlags("demo", table, ["--maybe"]).values.maybe, 2);
  assert.equal(parseFlags("demo", table, ["--maybe=7"]).values.maybe, 7);
  const { values, positionals } = parseFlags("demo", table, ["--maybe", "x"], {
    maxPositionals: 1,
  });
  assert.equal(values.maybe, 2);
  assert.deepEqual(positionals, ["x"]);
});

Deno.test("parseFlags() errors name the command, the flag and the value", () => {
  const cases: [string[], string][] = [
    [["--value"], "--value needs a value"],
    [["--value="], "--value needs a value"],
    [["--json=1"], "--json takes no value"],
    [["--bogus"], "demo: unknown flag '--bogus'"],
    [["stray"], "demo: unexpected argument 'stray'"],
    [["--list", "0"], "--list: '0' is not a whole number from 1 to 9"],
    [["--mode", "c"], "--mode: 'c' is not one of a, b"],
    [["--maybe=0"], "--maybe: '0' is not a number of seconds in (0, 60]"],
  ];
  for (const [args, message] of cases) {
    assert.throws(() => parseFlags("demo", table, args), new UsageError(message), args.join(" "));
  }
  assert.throws(
    () =>
      parseFlags("demo", table, ["one", "two"], { maxPositionals: 1, positionalName: "server" }),
    new UsageError("demo: more than one server ('one', 'two')"),
  );
});

Deno.test("flagHelp() aligns every flag's help, continuation lines included", () => {
  assert.equal(
    flagHelp(table, [{ name: "HOST", help: "the host" }]),
    [
      "  HOST               the host",
      "  --value, -v TEXT   a value",
      "  --list N           repeatable",
      "  --maybe [SECONDS]  optional value",
      "                     second line",
      "  --json             a switch",
      "  --mode M           a choice",
    ].join("\n"),
  );
});

Deno.test("secondsFlag() accepts (0, max] and names the flag otherwise", () => {
  assert.equal(secondsFlag("--timeout", "2.5", 60), 2.5);
  assert.throws(() => secondsFlag("--timeout", "0", 60), /--timeout: '0' is not a number/);
  assert.throws(() => secondsFlag("--timeout", "61", 60), /\(0, 60\]/);
  assert.throws(() => secondsFlag("--watch", "soon", 60), /--watch: 'soon'/);
});

Deno.test("parseFlags() takes a one-letter alias's value attached (-vVALUE) and stops at --", () => {
  assert.equal(parseFlags("demo", table, ["-vfile.toml"]).values.value, "file.toml");
  const { values, positionals } = parseFlags("demo", table, ["--json", "--", "--not-a-flag"], {
    maxPositionals: 1,
  });
  assert.equal(values.json, true);
  assert.deepEqual(positionals, ["--not-a-flag"]);
  assert.deepEqual(parseFlags("demo", table, ["--"]).positionals, []);
  assert.throws(
    () => parseFlags("demo", table, ["-x1"]),
    new UsageError("demo: unknown flag '-x1'"),
  );
});
