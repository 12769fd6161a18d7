// Walks a subcommand's arguments as flags with values (--flag VALUE or --flag=VALUE), so each
// command only says what its flags mean.
import { UsageError } from "./errors.ts";

/** One argument, seen as a flag. */
export interface FlagToken {
  /** The argument as given ("--timeout=2", "-4", "host:123"). */
  readonly arg: string;
  /** The flag part: before "=" for a `--flag=value` argument, else the whole argument. */
  readonly flag: string;
  /** The flag's value: after "=", or the next argument; a UsageError naming the flag if none. */
  value(): string;
  /** The value after "=", or the next argument when it matches `accept` (it is then consumed). */
  optionalValue(accept: RegExp): string | undefined;
}

/**
 * Yields every argument as a FlagToken; calling `value()` consumes the next argument.
 *
 * @example
 * ```ts
 * for (const token of flagTokens(["--timeout", "2", "--json"])) {
 *   if (token.flag === "--timeout") console.log(token.value()); // "2"
 * }
 * ```
 */
export function* flagTokens(args: readonly string[]): Generator<FlagToken> {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const equals = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const flag = equals > 0 ? arg.slice(0, equals) : arg;
    const inline = equals > 0 ? arg.slice(equals + 1) : undefined;
    yield {
      arg,
      flag,
      value: () => {
        const next = inline ?? args[++i];
        if (next === undefined || next === "") throw new UsageError(`${flag} needs a value`);
        return next;
      },
      optionalValue: (accept) => {
        if (inline !== undefined) return inline;
        const next = args[i + 1];
        if (next === undefined || !accept.test(next)) return undefined;
        i++;
        return next;
      },
    };
  }
}

/** Parses a number of seconds in (0, maxSeconds]; a UsageError naming the flag otherwise. */
export function secondsFlag(flag: string, text: string, maxSeconds: number): number {
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > maxSeconds) {
    throw new UsageError(`${flag}: '${text}' is not a number of seconds in (0, ${maxSeconds}]`);
  }
  return seconds;
}
