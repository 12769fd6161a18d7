// Config problems as data: one diagnostic per problem, printed as `FILE:LINE:COL: error: message`.

/** One problem found in a config file. Line and column are 1-based. */
export interface Diagnostic {
  readonly severity: "error" | "warning";
  /** The file name as the user gave it. */
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

/** A place in a config file, 1-based. */
export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

/**
 * Formats one diagnostic the way compilers do, so editors can jump to it.
 *
 * @example
 * ```ts
 * formatDiagnostic({ severity: "error", file: "ntp.toml", line: 3, column: 1, message: "x" });
 * // "ntp.toml:3:1: error: x"
 * ```
 */
export function formatDiagnostic(diagnostic: Diagnostic): string {
  const { file, line, column, severity, message } = diagnostic;
  return `${file}:${line}:${column}: ${severity}: ${message}`;
}

/** Orders diagnostics by file position (errors before warnings at the same place), stable otherwise. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return diagnostics
    .map((diagnostic, index) => ({ diagnostic, index }))
    .sort((a, b) =>
      a.diagnostic.line - b.diagnostic.line ||
      a.diagnostic.column - b.diagnostic.column ||
      (a.diagnostic.severity === b.diagnostic.severity
        ? 0
        : a.diagnostic.severity === "error"
        ? -1
        : 1) ||
      a.index - b.index
    )
    .map((entry) => entry.diagnostic);
}

/** True when any diagnostic is an error. */
export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((diagnostic) => diagnostic.severity === "error");
}

/**
 * A config that cannot be used. `diagnostics` holds every problem found (errors and warnings,
 * sorted by position); the message is their formatted lines, so `ntp serve` can print it as is.
 */
export class ConfigError extends Error {
  override name = "ConfigError";
  /** Every problem, sorted by position. */
  readonly diagnostics: readonly Diagnostic[];

  /** Wraps the diagnostics of a failed load; at least one should be an error. */
  constructor(diagnostics: readonly Diagnostic[]) {
    const sorted = sortDiagnostics(diagnostics);
    super(sorted.map(formatDiagnostic).join("\n"));
    this.diagnostics = sorted;
  }
}
