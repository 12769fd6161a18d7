// The program's name and version, from deno.json (the one place they are written).
import denoJson from "../../deno.json" with { type: "json" };

/**
 * "ntp X.Y.Z": what `ntp version` prints, the mode 6 `version` variable and the metrics'
 * build info.
 *
 * @example
 * ```ts
 * PROGRAM_VERSION; // "ntp 0.1.0"
 * ```
 */
export const PROGRAM_VERSION = `ntp ${denoJson.version}`;
