// Tests of scripts/compile.ts: one permission list shared with `deno task ntp`, the worker modules embedded, and clear failures when the Deno runtime (denort) cannot be had.
import assert from "node:assert/strict";
import {
  compileArgs,
  embeddedFiles,
  fileKind,
  lateModules,
  npmExcludePaths,
  ntpTaskFlags,
  targets,
} from "../../scripts/compile.ts";
import { ntpTaskFlags as flagsTheTestsRunWith } from "../support/ntp_server_process.ts";

const repoRoot = decodeURIComponent(new URL("../../", import.meta.url).pathname).replace(/\/$/, "");
const denoJson = await Deno.readTextFile(`${repoRoot}/deno.json`);
const quiet = { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" };

/** Runs `deno task compile ARGS` (through deno.json, as a person would) with extra environment. */
async function runCompileTask(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "compile", ...args],
    cwd: repoRoot,
    env: { ...quiet, ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(240_000),
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/**
 * The modules src/ names by a URL computed from import.meta.url, as `new Worker(...)` and
 * `loadLater(...)` load them: `new URL("./x.ts", import.meta.url)`.
 */
async function lateModulesInSource(): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(dir)) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) await walk(path);
      else if (entry.name.endsWith(".ts")) {
        // Code only: a JSDoc example is not loaded by the program.
        const text = (await Deno.readTextFile(path)).replace(/\/\*[\s\S]*?\*\//g, "");
        // Every module named by a URL computed from import.meta.url, whatever loads it.
        const pattern = /new URL\(\s*"(\.[^"]+\.ts)",\s*import\.meta\.url/g;
        for (const m of text.matchAll(pattern)) {
          const url = new URL(m[1]!, `file://${path}`);
          found.push(decodeURIComponent(url.pathname).slice(repoRoot.length + 1));
        }
      }
    }
  };
  await walk(`${repoRoot}/src`);
  return found.sort();
}

Deno.test("the compiled binaries get exactly the permission flags `deno task ntp` and the end-to-end tests run with", async () => {
  const flags = ntpTaskFlags(denoJson);
  assert.deepEqual(flags, await flagsTheTestsRunWith());
  assert.ok(flags.length > 0 && flags.every((f) => f.startsWith("--allow-")), flags.join(" "));
  const ntpTask = (JSON.parse(denoJson) as { tasks: Record<string, string> }).tasks.ntp!;
  assert.equal(ntpTask, `deno run ${flags.join(" ")} main.ts`);
  for (const target of targets) {
    const args = compileArgs(target, { flags, outDir: "dist" });
    assert.deepEqual(args.filter((a) => /^--(allow|deny)-/.test(a)), flags);
    assert.ok(!args.includes("-A") && !args.includes("--allow-all"));
    assert.deepEqual(args.slice(0, 5), [
      "compile",
      "--target",
      target,
      "--output",
      `dist/ntp-${target}`,
    ]);
    assert.equal(args.at(-1), "main.ts");
  }
});

Deno.test("ntpTaskFlags() refuses -A, --allow-all, other flags and other task shapes", () => {
  const task = (ntp: string) => JSON.stringify({ tasks: { ntp } });
  assert.deepEqual(ntpTaskFlags(task("deno run --allow-net --allow-read=/etc main.ts")), [
    "--allow-net",
    "--allow-read=/etc",
  ]);
  assert.throws(() => ntpTaskFlags(task("deno run -A main.ts")), /grants everything \(-A\)/);
  assert.throws(() => ntpTaskFlags(task("deno run --allow-all main.ts")), /grants everything/);
  assert.throws(
    () => ntpTaskFlags(task("deno run --inspect main.ts")),
    /--inspect.*not a permission flag/,
  );
  assert.throws(
    () => ntpTaskFlags(task("deno run --allow-net main.ts serve")),
    /not "deno run FLAGS/,
  );
  assert.throws(() => ntpTaskFlags("{}"), /no tasks\.ntp/);
});

Deno.test("every module src/ starts as a Worker or loads later is passed to deno compile with --include", async () => {
  const inSource = [...new Set(await lateModulesInSource())].sort();
  assert.ok(inSource.length >= 10, `found only ${inSource.join(", ")}`);
  assert.deepEqual([...lateModules].sort(), inSource);
  const args = compileArgs("x86_64-unknown-linux-gnu", { flags: [], outDir: "dist" });
  const included = args.flatMap((a, i) => args[i - 1] === "--include" ? [a] : []);
  assert.deepEqual(included.sort(), [...inSource, ...embeddedFiles].sort());
});

Deno.test("fileKind() tells ELF executables of each architecture, zips and other files apart", async () => {
  const elf = (machine: number) => {
    const head = new Uint8Array(64);
    head.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
    new DataView(head.buffer).setUint16(18, machine, true);
    return head;
  };
  assert.deepEqual(fileKind(elf(0x3e)), { kind: "elf", arch: "x86_64" });
  assert.deepEqual(fileKind(elf(0xb7)), { kind: "elf", arch: "aarch64" });
  assert.deepEqual(fileKind(elf(0x28)), { kind: "elf", arch: null });
  assert.deepEqual(fileKind(new TextEncoder().encode("PK\x03\x04...")), { kind: "zip" });
  assert.deepEqual(fileKind(new TextEncoder().encode("#!/bin/sh\n")), { kind: "other" });
  const self = (await Deno.readFile(Deno.execPath())).subarray(0, 64);
  assert.deepEqual(fileKind(self), { kind: "elf", arch: Deno.build.arch });
});

Deno.test("deno task compile --dry-run prints one deno compile per target with the task's flags and builds nothing", async () => {
  const outDir = `${await Deno.makeTempDir({ prefix: "ntpt-compile-" })}/dist`;
  try {
    const result = await runCompileTask(["--dry-run", "--out-dir", outDir]);
    assert.equal(result.code, 0, result.stderr);
    const commands = result.stdout.split("\n").filter((l) => / compile --target /.test(l));
    assert.equal(commands.length, targets.length, result.stdout);
    const flags = ntpTaskFlags(denoJson);
    targets.forEach((target, i) => {
      const words = commands[i]!.split(" ");
      assert.ok(words.includes(target) && words.includes(`${outDir}/ntp-${target}`), commands[i]);
      assert.deepEqual(words.filter((w) => /^--(allow|deny)-/.test(w)), flags);
    });
    assert.equal(await Deno.stat(outDir).then(() => true, () => false), false);
  } finally {
    await Deno.remove(outDir.replace(/\/dist$/, ""), { recursive: true });
  }
});

Deno.test("deno task compile fails with directions when DENORT_BIN is not a usable runtime", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ntpt-compile-" });
  try {
    await Deno.writeTextFile(`${dir}/text`, "not a runtime\n");
    await Deno.writeFile(`${dir}/denort.zip`, new Uint8Array([0x50, 0x4b, 3, 4, 0, 0, 0, 0]));
    const cases: [path: string, problem: RegExp][] = [
      [`${dir}/missing`, /DENORT_BIN=.*\/missing does not exist/],
      [`${dir}/text`, /DENORT_BIN=.*\/text is not an ELF executable/],
      [`${dir}/denort.zip`, /DENORT_BIN=.*\/denort\.zip is a zip archive: unzip it/],
      [Deno.execPath(), /is the deno CLI itself, not denort/],
    ];
    for (const [path, problem] of cases) {
      const result = await runCompileTask(["--out-dir", `${dir}/dist`], { DENORT_BIN: path });
      assert.equal(result.code, 1, `${path}\n${result.stdout}\n${result.stderr}`);
      assert.match(
        result.stderr,
        /cannot get the Deno runtime \(denort\) for x86_64-unknown-linux-gnu/,
      );
      assert.match(result.stderr, problem);
      assert.match(result.stderr, /DENORT_BIN_X86_64=\/path\/to\/denort deno task compile/);
      assert.match(result.stderr, /denort-x86_64-unknown-linux-gnu\.zip/);
      assert.equal(await Deno.stat(`${dir}/dist`).then(() => true, () => false), false);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task compile offline and without a runtime exits 1 and says where to get denort", async () => {
  // A Deno cache with the npm packages but no runtime zip, and every download refused.
  const denoDir = await Deno.makeTempDir({ prefix: "ntpt-denodir-" });
  try {
    const info = JSON.parse(
      new TextDecoder().decode(
        (await new Deno.Command(Deno.execPath(), { args: ["info", "--json"], env: quiet }).output())
          .stdout,
      ),
    ) as { npmCache: string };
    await Deno.symlink(info.npmCache, `${denoDir}/npm`);
    const result = await runCompileTask(
      ["--target", "aarch64-unknown-linux-gnu", "--out-dir", `${denoDir}/dist`],
      { DENO_DIR: denoDir, HTTPS_PROXY: "http://127.0.0.1:9", HTTP_PROXY: "http://127.0.0.1:9" },
    );
    assert.equal(result.code, 1, `${result.stdout}\n${result.stderr}`);
    assert.match(
      result.stderr,
      /cannot get the Deno runtime \(denort\) for aarch64-unknown-linux-gnu: the download failed: /,
    );
    assert.match(result.stderr, /DENORT_BIN_AARCH64=\/path\/to\/denort deno task compile/);
    assert.match(
      result.stderr,
      new RegExp(
        `${denoDir}/dl/release/v${Deno.version.deno}/denort-aarch64-unknown-linux-gnu\\.zip`,
      ),
    );
    assert.match(result.stderr, /No npm package ships denort/);
    assert.deepEqual([...Deno.readDirSync(`${denoDir}/dist`)], []);
  } finally {
    await Deno.remove(denoDir, { recursive: true });
  }
});

Deno.test("deno compile with the script's arguments embeds main.ts and the worker modules", async () => {
  // The deno CLI stands in for denort: the binary would only run as deno, but deno compile
  // resolves the whole program, applies --include/--exclude and lists what it embedded.
  const dir = await Deno.makeTempDir({ prefix: "ntpt-embed-" });
  try {
    const info = JSON.parse(
      new TextDecoder().decode(
        (await new Deno.Command(Deno.execPath(), { args: ["info", "--json"], env: quiet }).output())
          .stdout,
      ),
    ) as { npmCache: string };
    const target = Deno.build.arch === "aarch64"
      ? "aarch64-unknown-linux-gnu"
      : "x86_64-unknown-linux-gnu";
    const output = await new Deno.Command(Deno.execPath(), {
      args: compileArgs(target, {
        flags: ntpTaskFlags(denoJson),
        outDir: dir,
        excludes: npmExcludePaths(info.npmCache),
      }),
      cwd: repoRoot,
      env: { ...quiet, DENORT_BIN: Deno.execPath() },
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(240_000),
    }).output();
    const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, text);
    assert.match(text, /Embedded Files/);
    for (
      const name of [
        "main.ts",
        "udp_fast_worker.ts",
        "cli/",
        "candidates.txt",
        "prom-client",
        "smol-toml",
      ]
    ) {
      assert.ok(text.includes(name), `${name} not embedded\n${text}`);
    }
    assert.ok(!text.includes("fast-check"), `a test-only package was embedded\n${text}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a runtime that builds a binary which is not ntp is caught, and the binary removed", async () => {
  // A copy of the deno CLI passes the file checks; the built binary then runs as deno, not ntp.
  const dir = await Deno.makeTempDir({ prefix: "ntpt-compile-" });
  try {
    await Deno.copyFile(Deno.execPath(), `${dir}/denort`);
    const target = Deno.build.arch === "aarch64"
      ? "aarch64-unknown-linux-gnu"
      : "x86_64-unknown-linux-gnu";
    const result = await runCompileTask(["--target", target, "--out-dir", `${dir}/dist`], {
      DENORT_BIN: `${dir}/denort`,
    });
    assert.equal(result.code, 1, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stderr, /the binary built on it does not work: .* version` printed/);
    assert.deepEqual([...Deno.readDirSync(`${dir}/dist`)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
