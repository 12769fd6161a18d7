// Loads a module when it is first needed, out of sight of Deno's ahead-of-time module graph.
//
// `deno run` reads and prepares every module a program could import before it starts,
// following `import("./literal.ts")` too, so a literal dynamic import saves evaluation but not
// loading. A specifier computed at run time is not followed: the module is loaded when the call
// runs. `deno compile` must then be told to embed such modules (scripts/compile.ts does).

/**
 * Imports `url` now. Pass the module's type as `Module` so the caller stays type-checked.
 *
 * @example
 * ```ts
 * const version = await loadLater<typeof import("../core/version.ts")>(
 *   new URL("../core/version.ts", import.meta.url),
 * );
 * version.PROGRAM_VERSION; // "0.1.0"
 * ```
 */
export function loadLater<Module>(url: URL): Promise<Module> {
  return import(url.href);
}
