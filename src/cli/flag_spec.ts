// Declarative command-line flags: each subcommand lists its flags once (names, value, help,
// parser) and gets both the parsing and the flag lines of its help text from that list.
import { UsageError } from "./errors.ts";

/** One flag: how it is spelled, what value it takes, how that value is read, its help line. */
export interface FlagSpec<T> {
  /** Every spelling, as shown in the help: the long name first ("--config"), then aliases ("-c"). */
  readonly names: readonly [string, ...string[]];
  /** The value's placeholder in the help ("SECONDS"); absent for a switch. */
  readonly metavar?: string;
  /** The help text; "\n" starts a continuation line. */
  readonly help: string;
  /** "none" (a switch), "one" (--flag VALUE or --flag=VALUE), "optional" (value only when it matches `accept`). */
  readonly arity: "none" | "one" | "optional";
  /** For "optional": the next argument is taken as the value only when it matches. */
  readonly accept?: RegExp;
  /** The value before the flag is seen. */
  readonly initial: T;
  /** Folds one occurrence into the value so far; `text` is undefined for a switch or a bare optional flag. */
  take(current: T, text: string | undefined, flag: string): T;
}

/** A switch: false until given. */
export function switchFlag(names: FlagSpec<boolean>["names"], help: string): FlagSpec<boolean> {
  return { names, help, arity: "none", initial: false, take: () => true };
}

/** A flag with one value, read by `parse` (which throws UsageError on a bad value); the last one given wins. */
export function valueFlag<T>(
  names: FlagSpec<T>["names"],
  metavar: string,
  help: string,
  parse: (text: string, flag: string) => T,
): FlagSpec<T | undefined> {
  return {
    names,
    metavar,
    help,
    arity: "one",
    initial: undefined,
    take: (_, text, flag) => parse(text!, flag),
  };
}

/** A repeatable flag collecting every value in order. */
export function listFlag<T>(
  names: FlagSpec<T>["names"],
  metavar: string,
  help: string,
  parse: (text: string, flag: string) => T,
): FlagSpec<readonly T[]> {
  return {
    names,
    metavar,
    help,
    arity: "one",
    initial: [],
    take: (current, text, flag) => [...current, parse(text!, flag)],
  };
}

/** A flag whose value may be left out ("--watch" or "--watch 5"); bare, it takes `whenBare`. */
export function optionalValueFlag<T>(
  names: FlagSpec<T>["names"],
  metavar: string,
  help: string,
  options: { readonly accept: RegExp; readonly whenBare: T },
  parse: (text: string, flag: string) => T,
): FlagSpec<T | undefined> {
  return {
    names,
    metavar: `[${metavar}]`,
    help,
    arity: "optional",
    accept: options.accept,
    initial: undefined,
    take: (_, text, flag) => text === undefined ? options.whenBare : parse(text, flag),
  };
}

/** A command's flags by key. */
export type FlagTable = Readonly<Record<string, FlagSpec<unknown>>>;

/** The parsed value of every flag in a table, typed per flag. */
export type FlagValues<Table extends FlagTable> = {
  readonly [Key in keyof Table]: Table[Key] extends FlagSpec<infer T> ? T : never;
};

/** The result of {@link parseFlags}. */
export interface ParsedFlags<Table extends FlagTable> {
  readonly values: FlagValues<Table>;
  /** Arguments that are not flags, in order ("-" alone counts as one). */
  readonly positionals: readonly string[];
}

/**
 * Parses `args` against `table`. `--flag=VALUE`, `--flag VALUE` and, for a one-letter alias,
 * `-fVALUE` all work; "--" ends the flags (what follows are arguments). An unknown flag,
 * a missing value or a positional argument the command does not take throws a UsageError that
 * names `command` and the argument.
 *
 * @example
 * ```ts
 * const flags = {
 *   json: switchFlag(["--json"], "print JSON"),
 *   timeout: valueFlag(["--timeout"], "SECONDS", "wait this long", (text) => Number(text)),
 * };
 * const { values } = parseFlags("status", flags, ["--json", "--timeout=2"]);
 * values.json; // true
 * values.timeout; // 2
 * ```
 */
export function parseFlags<Table extends FlagTable>(
  command: string,
  table: Table,
  args: readonly string[],
  options: { readonly maxPositionals?: number; readonly positionalName?: string } = {},
): ParsedFlags<Table> {
  const byName = new Map<string, string>();
  for (const [key, spec] of Object.entries(table)) {
    for (const name of spec.names) byName.set(name, key);
  }
  const values: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(table)) values[key] = spec.initial;
  const positionals: string[] = [];
  let flagsEnded = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--" && !flagsEnded) {
      flagsEnded = true; // everything after "--" is an argument, even if it starts with "-"
      continue;
    }
    // --flag=VALUE, or a short flag with its value attached (-cFILE).
    const equals = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const attached = !arg.startsWith("--") && arg.length > 2 && arg.startsWith("-") &&
      byName.has(arg.slice(0, 2)) && table[byName.get(arg.slice(0, 2))!]!.arity === "one";
    const flag = flagsEnded
      ? ""
      : equals > 0
      ? arg.slice(0, equals)
      : attached
      ? arg.slice(0, 2)
      : arg;
    const inline = equals > 0 ? arg.slice(equals + 1) : attached ? arg.slice(2) : undefined;
    const key = flagsEnded ? undefined : byName.get(flag);
    if (key === undefined) {
      if (!flagsEnded && arg.startsWith("-") && arg !== "-") {
        throw new UsageError(`${command}: unknown flag '${arg}'`);
      }
      if (positionals.length >= (options.maxPositionals ?? 0)) {
        throw new UsageError(
          options.maxPositionals === undefined || options.maxPositionals === 0
            ? `${command}: unexpected argument '${arg}'`
            : `${command}: more than one ${options.positionalName ?? "argument"} ('${
              positionals.at(-1)
            }', '${arg}')`,
        );
      }
      positionals.push(arg);
      continue;
    }
    const spec = table[key]!;
    let text: string | undefined;
    if (spec.arity === "none") {
      if (inline !== undefined) throw new UsageError(`${flag} takes no value`);
    } else if (spec.arity === "one") {
      text = inline ?? args[++i];
      if (text === undefined || text === "") throw new UsageError(`${flag} needs a value`);
    } else {
      const next = args[i + 1];
      if (inline !== undefined) text = inline;
      else if (next !== undefined && spec.accept?.test(next) === true) text = args[++i];
    }
    values[key] = spec.take(values[key], text, flag);
  }
  return { values: values as FlagValues<Table>, positionals };
}

/**
 * The flag lines of a help text: every flag with its placeholder, the help aligned after it;
 * `leading` rows (positional arguments) come first, aligned with the flags.
 *
 * @example
 * ```ts
 * flagHelp({ json: switchFlag(["--json"], "print JSON") }); // "  --json  print JSON"
 * ```
 */
export function flagHelp(
  table: FlagTable,
  leading: readonly { readonly name: string; readonly help: string }[] = [],
): string {
  const rows = [
    ...leading.map((row) => ({ left: row.name, help: row.help.split("\n") })),
    ...Object.values(table).map((spec) => ({
      left: `${spec.names.join(", ")}${spec.metavar === undefined ? "" : ` ${spec.metavar}`}`,
      help: spec.help.split("\n"),
    })),
  ];
  const width = Math.max(...rows.map((row) => row.left.length));
  return rows.flatMap((row) =>
    row.help.map((line, index) =>
      `  ${(index === 0 ? row.left : "").padEnd(width)}  ${line}`.trimEnd()
    )
  ).join("\n");
}

/** Parses a number of seconds in (0, maxSeconds]; a UsageError naming the flag otherwise. */
export function secondsFlag(flag: string, text: string, maxSeconds: number): number {
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > maxSeconds) {
    throw new UsageError(`${flag}: '${text}' is not a number of seconds in (0, ${maxSeconds}]`);
  }
  return seconds;
}

/** Parses a whole number in [min, max]; a UsageError naming the flag otherwise. */
export function wholeNumberFlag(
  flag: string,
  text: string,
  range: { min: number; max: number },
): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < range.min || value > range.max) {
    throw new UsageError(
      `${flag}: '${text}' is not a whole number from ${range.min} to ${range.max}`,
    );
  }
  return value;
}

/** Parses one of a fixed set of words; a UsageError naming the flag and the choices otherwise. */
export function choiceFlag<T extends string>(
  allowed: readonly T[],
): (text: string, flag: string) => T {
  return (text: string, flag: string): T => {
    if ((allowed as readonly string[]).includes(text)) return text as T;
    throw new UsageError(`${flag}: '${text}' is not one of ${allowed.join(", ")}`);
  };
}
