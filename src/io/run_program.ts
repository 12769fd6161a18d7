// Runs a system tool (ss, nft, ufw, firewall-cmd, iptables) with a timeout and captures its output; a missing tool is a value, not an error.

/** What running a tool gave. */
export type ProgramOutcome =
  | {
    readonly kind: "ran";
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
  }
  /** The program is not installed (not on PATH). */
  | { readonly kind: "missing" }
  /** It could not be started (no --allow-run, ...) or ran past its timeout. */
  | { readonly kind: "failed"; readonly message: string };

/**
 * Runs `argv` (stdin closed, LC_ALL=C so the output is not translated) and waits at most
 * `timeoutMs` (default 5000) for it.
 *
 * @example
 * ```ts
 * import { judgeNftRuleset } from "../core/doctor/firewall_rules.ts";
 * const outcome = await runProgram(["nft", "list", "ruleset"]);
 * if (outcome.kind === "ran" && outcome.code === 0) judgeNftRuleset(outcome.stdout, 123);
 * ```
 */
export async function runProgram(
  argv: readonly string[],
  options: { readonly timeoutMs?: number } = {},
): Promise<ProgramOutcome> {
  const [program, ...args] = argv;
  if (program === undefined) return { kind: "failed", message: "no program given" };
  const abort = new AbortController();
  const timeoutMs = options.timeoutMs ?? 5000;
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    const output = await new Deno.Command(program, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { LC_ALL: "C", LANG: "C" },
      signal: abort.signal,
    }).output();
    if (abort.signal.aborted) {
      return { kind: "failed", message: `${program} did not finish within ${timeoutMs} ms` };
    }
    const decoder = new TextDecoder();
    return {
      kind: "ran",
      code: output.code,
      stdout: decoder.decode(output.stdout),
      stderr: decoder.decode(output.stderr),
    };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { kind: "missing" };
    return { kind: "failed", message: `cannot run ${program}: ${(error as Error).message}` };
  } finally {
    clearTimeout(timer);
  }
}
