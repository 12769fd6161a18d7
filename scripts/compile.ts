// `deno task compile`: builds dist/ntp-<target> for Linux x86_64 and aarch64 with `deno compile`, baking in exactly the permission flags of deno.json's tasks.ntp.
//
// deno compile glues our code onto a runtime ("denort") of the same Deno version, which it downloads
// unless it is given one: DENORT_BIN_X86_64 / DENORT_BIN_AARCH64 (per architecture) or DENORT_BIN
// (used for the target of its own architecture; deno compile itself reads DENORT_BIN), or the
// release zip in Deno's cache ($DENO_DIR/dl/release/vVERSION/denort-TARGET.zip). When none is there
// and the download fails, the script says so and what to do, and exits 1.
//
// usage: deno task compile [--target TARGET]... [--out-dir DIR] [--dry-run]

/** The targets built by default, in order. */
export const targets = ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"] as const;
/** A `deno compile --target` value this script builds. */
export type Target = typeof targets[number];

/**
 * Modules loaded from a URL computed at run time, `new Worker(new URL(...))` and
 * `loadLater(new URL(...))` (src/io/load_later.ts): deno compile only embeds them when told to.
 */
export const lateModules: readonly string[] = [
  "src/cli/config_command.ts",
  "src/cli/doctor_command.ts",
  "src/cli/pick_command.ts",
  "src/cli/plot_command.ts",
  "src/cli/query_command.ts",
  "src/cli/serve_command.ts",
  "src/cli/status_command.ts",
  "src/core/nts/nts_client_session.ts",
  "src/daemon/metrics_server.ts",
  "src/daemon/nts_service.ts",
  "src/daemon/nts_upstreams.ts",
  "src/daemon/serve.ts",
  "src/daemon/time_keeping.ts",
  "src/io/aes_siv.ts",
  "src/io/nts_ke_client.ts",
  "src/io/nts_key_file.ts",
  "src/io/nts_responder.ts",
  "src/io/tls_server_openssl.ts",
  "src/io/udp_client_portable.ts",
  "src/io/udp_fast_worker.ts",
  "src/io/udp_portable.ts",
];

/** Data files the program reads beside its code: `ntp pick`'s default candidate list. */
export const embeddedFiles: readonly string[] = ["conf/candidates.txt"];

/**
 * Paths inside npm packages (under the npm cache's registry.npmjs.org/) that deno compile cannot
 * embed; passed as --exclude. bintrees (prom-client -> tdigest -> bintrees) ships
 * test/perf/100k, 100k lines of numbers without an extension: deno 2.9 parses it as JavaScript
 * and dies of a stack overflow.
 */
export const npmExcludes: readonly string[] = ["bintrees/1.0.2/test"];

/** The program's entry point, relative to the repository root. */
export const entryPoint = "main.ts";

const repoRoot = decodeURIComponent(new URL("../", import.meta.url).pathname).replace(/\/$/, "");

/** A problem the user can fix (bad flag, missing runtime, odd deno.json); exit 1 or 2 with the message. */
export class CompileError extends Error {
  /** Exit code to use: 2 for a bad command line, 1 otherwise. */
  readonly exitCode: number;
  /** `exitCode` defaults to 1. */
  constructor(message: string, options: { exitCode?: number } = {}) {
    super(message);
    this.name = "CompileError";
    this.exitCode = options.exitCode ?? 1;
  }
}

/**
 * The deno flags of deno.json's `tasks.ntp` ("deno run FLAGS... main.ts"): the ONE list that
 * `deno task ntp` runs with and that the compiled binaries get. Only --allow-*, --deny-* and
 * --unstable-* flags are accepted, and never -A / --allow-all.
 *
 * @throws {CompileError} When tasks.ntp is missing, has another shape, or holds another flag.
 * @example
 * ```ts
 * ntpTaskFlags(await Deno.readTextFile("deno.json")); // ["--allow-net", "--allow-read", ...]
 * ```
 */
export function ntpTaskFlags(denoJsonText: string): string[] {
  const task = (JSON.parse(denoJsonText) as { tasks?: Record<string, string> }).tasks?.ntp;
  if (task === undefined) throw new CompileError("deno.json has no tasks.ntp");
  const words = task.trim().split(/\s+/);
  const main = words.indexOf(entryPoint);
  if (words[0] !== "deno" || words[1] !== "run" || main !== words.length - 1) {
    throw new CompileError(`tasks.ntp is not "deno run FLAGS... ${entryPoint}": ${task}`);
  }
  const flags = words.slice(2, main);
  for (const flag of flags) {
    if (flag === "-A" || flag === "--allow-all" || /^--allow-all=/.test(flag)) {
      throw new CompileError(`tasks.ntp grants everything (${flag}); list the permissions instead`);
    }
    if (!/^--(allow|deny|unstable)-[a-z-]+(=.*)?$/.test(flag)) {
      throw new CompileError(
        `tasks.ntp has ${flag}, which is not a permission flag; scripts/compile.ts bakes in only ` +
          `--allow-*, --deny-* and --unstable-* flags: teach it about this one`,
      );
    }
  }
  return flags;
}

/** The CPU architecture of a target, as Deno.build.arch names it. */
export function targetArch(target: Target): "x86_64" | "aarch64" {
  return target.startsWith("x86_64") ? "x86_64" : "aarch64";
}

/** Where the binary for `target` goes: OUTDIR/ntp-TARGET. */
export function outputPath(outDir: string, target: Target): string {
  return `${outDir}/ntp-${target}`;
}

/**
 * The `deno compile` arguments (after the deno executable) for one target.
 *
 * @example
 * ```ts
 * compileArgs("aarch64-unknown-linux-gnu", { flags: ["--allow-net"], outDir: "dist" });
 * // ["compile", "--target", "aarch64-unknown-linux-gnu", "--output", "dist/ntp-aarch64-...", "--allow-net", "--include", ..., "main.ts"]
 * ```
 */
export function compileArgs(
  target: Target,
  options: { flags: readonly string[]; outDir: string; excludes?: readonly string[] },
): string[] {
  return [
    "compile",
    "--target",
    target,
    "--output",
    outputPath(options.outDir, target),
    ...options.flags,
    ...[...lateModules, ...embeddedFiles].flatMap((path) => ["--include", path]),
    // Only the npm packages the program imports (not fast-check, a test tool).
    "--exclude-unused-npm",
    ...(options.excludes ?? []).flatMap((path) => ["--exclude", path]),
    entryPoint,
  ];
}

/**
 * The --exclude paths of {@link npmExcludes} in the npm cache `npmCache`. They are passed even
 * when the package is not downloaded yet (deno compile fetches it first and accepts the path).
 */
export function npmExcludePaths(npmCache: string): string[] {
  return npmExcludes.map((path) => `${npmCache}/registry.npmjs.org/${path}`);
}

/** ELF e_machine values of our two architectures. */
const elfMachines: Readonly<Record<number, "x86_64" | "aarch64">> = {
  0x3e: "x86_64",
  0xb7: "aarch64",
};

/**
 * What the first bytes of a file say it is: an ELF executable of an architecture (null when it is
 * some other one), a zip archive, or something else.
 *
 * @example
 * ```ts
 * fileKind(await Deno.readFile("/usr/bin/true")); // { kind: "elf", arch: "x86_64" }
 * ```
 */
export function fileKind(
  head: Uint8Array,
): { kind: "elf"; arch: "x86_64" | "aarch64" | null } | { kind: "zip" } | { kind: "other" } {
  if (
    head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46 &&
    head.length >= 20
  ) {
    const machine = new DataView(head.buffer, head.byteOffset, head.byteLength).getUint16(18, true);
    return { kind: "elf", arch: elfMachines[machine] ?? null };
  }
  if (head[0] === 0x50 && head[1] === 0x4b) return { kind: "zip" };
  return { kind: "other" };
}

/** Facts the runtime help text names. */
export interface RuntimeHelpFacts {
  readonly denoVersion: string;
  /** Deno's cache directory ($DENO_DIR). */
  readonly denoDir: string;
}

/** Name of the per-architecture variable for a target, e.g. DENORT_BIN_AARCH64. */
export function runtimeVariable(target: Target): string {
  return `DENORT_BIN_${targetArch(target).toUpperCase()}`;
}

/** Deno's cache path of the runtime zip that deno compile looks for before downloading. */
export function cachedRuntimeZip(target: Target, facts: RuntimeHelpFacts): string {
  return `${facts.denoDir}/dl/release/v${facts.denoVersion}/denort-${target}.zip`;
}

/**
 * What to do when the runtime (denort) for `target` cannot be had: where to get it and how to
 * hand it over. `problem` says what went wrong first.
 */
export function runtimeHelp(target: Target, problem: string, facts: RuntimeHelpFacts): string {
  const zip = `denort-${target}.zip`;
  return [
    `compile: cannot get the Deno runtime (denort) for ${target}: ${problem}`,
    `deno compile builds the binary on ${zip} of Deno ${facts.denoVersion} (the same version as`,
    `the deno that compiles) and downloads it when it is not given one. To build without network`,
    `access, fetch ${zip} elsewhere (an asset of the Deno v${facts.denoVersion} release on GitHub,`,
    `denoland/deno) and either:`,
    `  - unzip it and run: ${runtimeVariable(target)}=/path/to/denort deno task compile`,
    `    (or DENORT_BIN=/path/to/denort deno task compile --target ${target}), or`,
    `  - copy the zip unchanged to ${cachedRuntimeZip(target, facts)}`,
    `No npm package ships denort: @deno/linux-x64-glibc and @deno/linux-arm64-glibc hold only the`,
    `deno CLI, which cannot stand in for it (a binary built on it just runs as deno).`,
  ].join("\n");
}

/** Where a target's runtime comes from. */
type RuntimeSource =
  | { kind: "file"; path: string; variable: string }
  | { kind: "cache"; path: string }
  | { kind: "download" };

async function sameFile(a: string, b: string): Promise<boolean> {
  try {
    const [sa, sb] = await Promise.all([Deno.stat(a), Deno.stat(b)]);
    return sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    return false;
  }
}

/** Checks a runtime file named by `variable`; returns its architecture or throws CompileError. */
async function checkRuntimeFile(
  variable: string,
  path: string,
  explain: (problem: string) => string,
): Promise<"x86_64" | "aarch64"> {
  let head: Uint8Array;
  try {
    const file = await Deno.open(path);
    try {
      head = new Uint8Array(64);
      const read = await file.read(head);
      head = head.subarray(0, read ?? 0);
    } finally {
      file.close();
    }
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound
      ? "does not exist"
      : `cannot be read (${error instanceof Error ? error.message : String(error)})`;
    throw new CompileError(explain(`${variable}=${path} ${why}`));
  }
  const kind = fileKind(head);
  if (kind.kind === "zip") {
    throw new CompileError(
      explain(`${variable}=${path} is a zip archive: unzip it and name denort`),
    );
  }
  if (kind.kind !== "elf") {
    throw new CompileError(explain(`${variable}=${path} is not an ELF executable`));
  }
  if (kind.arch === null) {
    throw new CompileError(explain(`${variable}=${path} is not an x86_64 or aarch64 executable`));
  }
  if (await sameFile(path, Deno.execPath())) {
    throw new CompileError(explain(`${variable}=${path} is the deno CLI itself, not denort`));
  }
  return kind.arch;
}

/** Picks the runtime of each target from the environment and Deno's cache; throws on a bad one. */
async function resolveRuntimes(
  wanted: readonly Target[],
  env: Readonly<Record<string, string>>,
  facts: RuntimeHelpFacts,
): Promise<Map<Target, RuntimeSource>> {
  const sources = new Map<Target, RuntimeSource>();
  const generic = env.DENORT_BIN;
  const genericArch = generic === undefined || generic === ""
    ? null
    : await checkRuntimeFile("DENORT_BIN", generic, (p) => runtimeHelp(wanted[0]!, p, facts));
  for (const target of wanted) {
    const variable = runtimeVariable(target);
    const specific = env[variable];
    const explain = (problem: string) => runtimeHelp(target, problem, facts);
    if (specific !== undefined && specific !== "") {
      const arch = await checkRuntimeFile(variable, specific, explain);
      if (arch !== targetArch(target)) {
        throw new CompileError(explain(`${variable}=${specific} is an ${arch} executable`));
      }
      sources.set(target, { kind: "file", path: specific, variable });
    } else if (genericArch === targetArch(target)) {
      sources.set(target, { kind: "file", path: generic!, variable: "DENORT_BIN" });
    } else {
      const zip = cachedRuntimeZip(target, facts);
      const cached = await Deno.stat(zip).then((s) => s.isFile, () => false);
      sources.set(target, cached ? { kind: "cache", path: zip } : { kind: "download" });
    }
  }
  return sources;
}

/** Deno's cache directories, from `deno info --json`. */
export async function denoDirectories(): Promise<{ denoDir: string; npmCache: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
  }).output();
  if (!output.success) throw new CompileError("`deno info --json` failed; cannot find DENO_DIR");
  return JSON.parse(new TextDecoder().decode(output.stdout)) as {
    denoDir: string;
    npmCache: string;
  };
}

/** Parsed command line of the script. */
interface CompileCommand {
  readonly targets: Target[];
  readonly outDir: string;
  readonly dryRun: boolean;
}

const usage = `usage: deno task compile [--target TARGET]... [--out-dir DIR] [--dry-run]
  --target TARGET  ${targets.join(" or ")} (repeatable; default both)
  --out-dir DIR    where the binaries go (default dist/ in the repository)
  --dry-run        print the deno compile commands and where each runtime comes from; build nothing
Runtimes: DENORT_BIN_X86_64, DENORT_BIN_AARCH64, or DENORT_BIN (for the target of its architecture).`;

function parseCommand(args: readonly string[]): CompileCommand {
  const chosen: Target[] = [];
  let outDir = `${repoRoot}/dist`;
  let dryRun = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const value = () => {
      const next = args[++i];
      if (next === undefined) {
        throw new CompileError(`${arg} needs a value\n${usage}`, { exitCode: 2 });
      }
      return next;
    };
    if (arg === "--dry-run") dryRun = true;
    else if (arg === "--out-dir") outDir = value();
    else if (arg === "--target") {
      const target = value();
      if (!(targets as readonly string[]).includes(target)) {
        throw new CompileError(`--target: '${target}' is not one of ${targets.join(", ")}`, {
          exitCode: 2,
        });
      }
      if (!chosen.includes(target as Target)) chosen.push(target as Target);
    } else if (arg === "--help" || arg === "-h") {
      throw new CompileError(usage, { exitCode: 0 });
    } else throw new CompileError(`unknown argument '${arg}'\n${usage}`, { exitCode: 2 });
  }
  return { targets: chosen.length > 0 ? chosen : [...targets], outDir, dryRun };
}

function shellQuote(words: readonly string[]): string {
  return words.map((w) => /^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replaceAll("'", `'\\''`)}'`)
    .join(" ");
}

function describeSource(source: RuntimeSource): string {
  switch (source.kind) {
    case "file":
      return `runtime ${source.path} (${source.variable})`;
    case "cache":
      return `runtime ${source.path} (Deno's cache)`;
    case "download":
      return "runtime to be downloaded by deno compile";
  }
}

/** Runs the built binary (host architecture only) and checks that it is ntp, not plain deno. */
async function smokeTest(path: string, version: string): Promise<string | null> {
  const cwd = await Deno.makeTempDir({ prefix: "ntp-compile-smoke-" }); // nothing to pick up
  const output = await new Deno.Command(path, {
    args: ["version"],
    cwd,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    signal: AbortSignal.timeout(30_000),
  }).output().catch((error: unknown) => error instanceof Error ? error : new Error(String(error)))
    .finally(() => Deno.remove(cwd, { recursive: true }));
  if (output instanceof Error) return output.message;
  const stdout = new TextDecoder().decode(output.stdout).trim();
  if (output.success && stdout === `ntp ${version}`) return null;
  return `\`${path} version\` printed ${JSON.stringify(stdout)} (exit ${output.code}), ` +
    `expected "ntp ${version}"`;
}

/** Runs the script; returns the exit code. */
export async function main(args: readonly string[]): Promise<number> {
  try {
    const command = parseCommand(args);
    const denoJson = await Deno.readTextFile(`${repoRoot}/deno.json`);
    const flags = ntpTaskFlags(denoJson);
    const version = (JSON.parse(denoJson) as { version?: string }).version ?? "0.0.0";
    const directories = await denoDirectories();
    const facts = { denoVersion: Deno.version.deno, denoDir: directories.denoDir };
    const excludes = npmExcludePaths(directories.npmCache);
    const env = Deno.env.toObject();
    const sources = await resolveRuntimes(command.targets, env, facts);
    if (!command.dryRun) await Deno.mkdir(command.outDir, { recursive: true });
    for (const target of command.targets) {
      const source = sources.get(target)!;
      const args = compileArgs(target, { flags, outDir: command.outDir, excludes });
      const childEnv: Record<string, string> = { ...env, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" };
      for (const name of Object.keys(childEnv)) {
        if (name.startsWith("DENORT_BIN")) delete childEnv[name];
      }
      if (source.kind === "file") childEnv.DENORT_BIN = source.path;
      const prefix = source.kind === "file" ? `DENORT_BIN=${shellQuote([source.path])} ` : "";
      console.log(`# ${target}: ${describeSource(source)}`);
      console.log(`${prefix}${shellQuote([Deno.execPath(), ...args])}`);
      if (command.dryRun) continue;
      const output = await new Deno.Command(Deno.execPath(), {
        args,
        cwd: repoRoot,
        env: childEnv,
        clearEnv: true,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(output.stderr);
      if (!output.success) {
        const runtimeFailed = /denort|Setting up base binary|dl\.deno\.land/i.test(stderr);
        if (runtimeFailed && source.kind === "download") {
          throw new CompileError(
            runtimeHelp(target, `the download failed: ${downloadError(stderr)}`, facts),
          );
        }
        throw new CompileError(`compile: deno compile failed for ${target}:\n${stderr}`);
      }
      const path = outputPath(command.outDir, target);
      if (targetArch(target) === Deno.build.arch) {
        const problem = await smokeTest(path, version);
        if (problem !== null) {
          await Deno.remove(path).catch(() => {});
          throw new CompileError(
            runtimeHelp(target, `the binary built on it does not work: ${problem}`, facts),
          );
        }
      }
      const size = (await Deno.stat(path)).size;
      console.log(`built ${path} (${(size / 2 ** 20).toFixed(1)} MiB)`);
    }
    return 0;
  } catch (error) {
    if (!(error instanceof CompileError)) throw error;
    if (error.exitCode === 0) console.log(error.message);
    else console.error(error.message);
    return error.exitCode;
  }
}

/** The most telling line of deno compile's download error ("error sending request ...: dns error ..."). */
function downloadError(stderr: string): string {
  // deno-lint-ignore no-control-regex
  const lines = stderr.replace(/\x1b\[[0-9;]*m/g, "").split("\n").map((l) => l.trim());
  const causes = lines.filter((l) => /^\d+: /.test(l)).map((l) => l.replace(/^\d+: /, ""));
  return causes.find((l) => /sending request|download/i.test(l)) ?? causes.at(-1) ??
    lines.find((l) => /error/i.test(l)) ?? "no details";
}

if (import.meta.main) Deno.exit(await main(Deno.args));
