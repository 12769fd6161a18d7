// How the config checks report: diagnostics against key paths, at their positions in the file.

/** Options of a report: `bare` leaves out the key's label (the message names its subject). */
export interface ReportOptions {
  readonly bare?: boolean;
}

/** Collects diagnostics against key paths, at their positions, as `label(path): message`. */
export interface Reporter {
  /** Reports an error; the config will not load. */
  error(path: string, message: string, options?: ReportOptions): void;
  /** Reports a warning; the config still loads. */
  warning(path: string, message: string, options?: ReportOptions): void;
  /** Line of a key path, for "first given at line N". */
  lineOf(path: string): number;
}
