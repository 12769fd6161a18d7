// The house rules, read from the code: layers import only downward (core <- config <- io <- daemon <- cli <- main.ts, and the library beside cli: daemon <- lib <- mod.ts), no import cycles (type-only ones included), and the core stays pure (no Deno.*, clocks, timers, console or crypto).
import assert from "node:assert/strict";
import { dirname, join, relative } from "node:path";

const root = new URL("../", import.meta.url).pathname;

/**
 * Layers from the bottom; a file may import its own layer and the ones below. `lib` (the library
 * behind mod.ts) sits beside `cli` (behind main.ts): neither imports the other.
 */
const layers = ["core", "config", "io", "daemon", "cli", "lib"] as const;
type Layer = (typeof layers)[number] | "main";

async function sourceFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(join(root, dir))) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) files.push(...await sourceFiles(path));
    else if (entry.name.endsWith(".ts")) files.push(path);
  }
  return files.sort();
}

/**
 * The code of a file without its comments and string contents (so examples and messages do not
 * count), read as a scanner does: a "//" inside a string is not a comment, and the `${...}`
 * expressions of template strings are code and stay.
 */
function codeOnly(text: string): string {
  let out = "";
  let i = 0;
  /** Open `${` expressions of template strings, innermost last: the brace depth inside each. */
  const templates: number[] = [];
  const skipString = (quote: string) => {
    out += quote + quote;
    i++;
    while (i < text.length && text[i] !== quote && text[i] !== "\n") i += text[i] === "\\" ? 2 : 1;
    i++;
  };
  const skipTemplate = () => {
    // From just after a backtick or a closing "}" of an expression, to the end or the next `${`.
    while (i < text.length) {
      if (text[i] === "\\") i += 2;
      else if (text[i] === "`") {
        out += "``";
        i++;
        return;
      } else if (text[i] === "$" && text[i + 1] === "{") {
        out += " ";
        templates.push(0);
        i += 2;
        return;
      } else i++;
    }
  };
  while (i < text.length) {
    const c = text[i]!;
    const next = text[i + 1];
    if (c === "/" && next === "/") {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (c === "/" && next === "*") {
      const end = text.indexOf("*/", i + 2);
      i = end < 0 ? text.length : end + 2;
    } else if (c === '"' || c === "'") {
      skipString(c);
    } else if (c === "`") {
      i++;
      skipTemplate();
    } else if (templates.length > 0 && c === "{") {
      templates[templates.length - 1]!++;
      out += c;
      i++;
    } else if (templates.length > 0 && c === "}" && templates[templates.length - 1] === 0) {
      templates.pop();
      out += " ";
      i++;
      skipTemplate();
    } else {
      if (templates.length > 0 && c === "}") templates[templates.length - 1]!--;
      out += c;
      i++;
    }
  }
  return out;
}

/** Every relative module a file imports or re-exports (static and dynamic, type-only too). */
function importsOf(path: string, text: string): string[] {
  const found: string[] = [];
  const stripped = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const patterns = [
    /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s*["']([^"']+)["']/g,
    /(?:^|\n)\s*import\s*["']([^"']+)["']/g,
    /\bimport\(\s*["']([^"']+)["']\s*\)/g,
    /new URL\(\s*["'](\.[^"']+\.ts)["']\s*,\s*import\.meta\.url\s*\)/g,
  ];
  for (const pattern of patterns) {
    for (const match of stripped.matchAll(pattern)) {
      const target = match[1] as string;
      if (!target.startsWith(".")) continue;
      found.push(join(dirname(path), target));
    }
  }
  return found;
}

function layerOf(path: string): Layer | null {
  if (path === "main.ts" || path === "mod.ts") return "main";
  const match = /^src\/([a-z]+)\//.exec(path);
  if (match === null) return null;
  return (layers as readonly string[]).includes(match[1] as string) ? match[1] as Layer : null;
}

function rank(layer: Layer): number {
  if (layer === "main") return layers.length;
  return layer === "lib" ? layers.indexOf("cli") : layers.indexOf(layer);
}

const files = ["main.ts", "mod.ts", ...await sourceFiles("src")];
const texts = new Map<string, string>();
for (const file of files) texts.set(file, await Deno.readTextFile(join(root, file)));
const graph = new Map<string, string[]>();
for (const file of files) {
  graph.set(
    file,
    importsOf(file, texts.get(file) as string).map((p) => relative(root, join(root, p))),
  );
}

/** Every import that goes up a layer, or out of src/ (deno.json for the version excepted). */
function layerViolations(graph: ReadonlyMap<string, readonly string[]>): string[] {
  const violations: string[] = [];
  for (const [file, imports] of graph) {
    const from = layerOf(file);
    if (from === null) {
      violations.push(`${file} is in no layer (${layers.join(", ")})`);
      continue;
    }
    for (const target of imports) {
      const to = layerOf(target);
      // The one file outside src/ the program reads: deno.json, for its version.
      if (file === "src/core/version.ts" && target === "deno.json") continue;
      if (to === null) {
        violations.push(`${file} imports ${target}, outside src/`);
      } else if (rank(to) > rank(from)) {
        violations.push(`${file} (${from}) imports ${target} (${to}): upward`);
      } else if (rank(to) === rank(from) && to !== from) {
        violations.push(`${file} (${from}) imports ${target} (${to}): sideways`);
      }
    }
  }
  return violations;
}

/** Every import cycle, as the files around it. */
function cyclesOf(graph: ReadonlyMap<string, readonly string[]>): string[] {
  const cycles: string[] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, "open");
    stack.push(file);
    for (const target of graph.get(file) ?? []) {
      if (!graph.has(target)) continue;
      const seen = state.get(target);
      if (seen === "open") {
        cycles.push([...stack.slice(stack.indexOf(target)), target].join(" -> "));
      } else if (seen === undefined) visit(target);
    }
    stack.pop();
    state.set(file, "done");
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return cycles;
}

Deno.test("every file of src/ sits in a layer, and layers import only their own and lower ones", () => {
  assert.deepEqual(layerViolations(graph), []);
});

Deno.test("no import cycles in src/, type-only imports included", () => {
  assert.deepEqual(cyclesOf(graph), []);
});

Deno.test("the layer and cycle checks catch an upward import, a file outside src/ and a loop", () => {
  const bad = new Map<string, string[]>([
    ["src/core/a.ts", ["src/io/b.ts"]],
    ["src/io/b.ts", ["src/io/c.ts"]],
    ["src/io/c.ts", ["src/io/b.ts", "scripts/x.ts"]],
    ["src/extra/d.ts", []],
    ["src/lib/e.ts", ["src/cli/f.ts", "src/daemon/g.ts"]],
  ]);
  assert.deepEqual(layerViolations(bad), [
    "src/core/a.ts (core) imports src/io/b.ts (io): upward",
    "src/io/c.ts imports scripts/x.ts, outside src/",
    "src/extra/d.ts is in no layer (core, config, io, daemon, cli, lib)",
    "src/lib/e.ts (lib) imports src/cli/f.ts (cli): sideways",
  ]);
  assert.deepEqual(cyclesOf(bad), ["src/io/b.ts -> src/io/c.ts -> src/io/b.ts"]);
});

const forbidden: [RegExp, string][] = [
  [/\bDeno\b/, "Deno"],
  [/\bDate\.now\b|\bnew Date\s*\(\s*\)|(?<![\w.]|\bnew\s+)Date\s*\(/, "the wall clock"],
  [/\bperformance\b/, "performance.now"],
  [/\b(?:setTimeout|setInterval|queueMicrotask|requestAnimationFrame)\b/, "timers"],
  [/\bconsole\b/, "console"],
  [/\bMath\.random\b/, "Math.random"],
  [/\bcrypto\b/, "crypto"],
  [/\b(?:fetch|XMLHttpRequest|WebSocket|Worker|navigator)\b/, "network or threads"],
  [/\bimport\s*\(/, "dynamic import"],
];

/** What a core file uses that the core must not (I/O, clocks, timers, randomness). */
function impurities(text: string): string[] {
  const code = codeOnly(text);
  const found = forbidden.filter(([pattern]) => pattern.test(code)).map(([, what]) => what);
  // Module specifiers are strings, which codeOnly() blanks: read them from the import lines.
  if (/^\s*(?:import|export)\b[^;]*?["']node:/m.test(text)) found.push("node: modules");
  return found;
}

Deno.test("src/core is pure: no Deno.*, clocks, timers, console, random or crypto in its code", () => {
  const violations: string[] = [];
  for (const [file, text] of texts) {
    if (!file.startsWith("src/core/")) continue;
    for (const what of impurities(text)) violations.push(`${file} uses ${what}`);
  }
  assert.deepEqual(violations, []);
  assert.deepEqual(impurities("const t = Date.now();\nsetTimeout(f, 1);"), [
    "the wall clock",
    "timers",
  ]);
  assert.deepEqual(impurities('// Date.now() in a comment\nconst s = "Deno.exit";'), []);
  // What a line-based reading would miss: code in template expressions, after a "//" string,
  // through an alias, or as a bare call.
  const evasions: [string, string][] = [
    ["const s = `${Date.now()}`;", "the wall clock"],
    ['const u = "//"; Deno.exit();', "Deno"],
    ["const d = Deno; d.exit();", "Deno"],
    ["const s = Date();", "the wall clock"],
    ['await fetch("http://x");', "network or threads"],
    ['import { readFileSync } from "node:fs";', "node: modules"],
    ["const w = new Worker(u);", "network or threads"],
    ['const m = await import("./x.ts");', "dynamic import"],
    ["const t = `a${`b${performance.now()}`}`;", "performance.now"],
  ];
  for (const [code, what] of evasions) assert.deepEqual(impurities(code), [what], code);
  assert.deepEqual(impurities("const t = `${a}` + '`' + \"Deno\" + `x${{ b: 1 }.b}y`;"), []);
  assert.deepEqual(impurities("const d = new Date(unixMs).toISOString();"), []);
});

Deno.test("the architecture test reads imports: it finds the known edges of main.ts and a core file", () => {
  assert.ok((graph.get("main.ts") ?? []).some((p) => p.startsWith("src/cli/")));
  assert.ok(
    (graph.get("src/core/client/time_keeper.ts") ?? []).includes("src/core/client/association.ts"),
  );
  assert.ok(importsOf("src/x/a.ts", 'import type { A } from "./b.ts";\n').includes("src/x/b.ts"));
  assert.ok(importsOf("src/x/a.ts", 'export { A } from "../y/b.ts";\n').includes("src/y/b.ts"));
  assert.ok(importsOf("src/x/a.ts", 'const m = await import("./c.ts");').includes("src/x/c.ts"));
  assert.equal(importsOf("src/x/a.ts", '// import { A } from "./b.ts";\n').length, 0);
  assert.ok(codeOnly("const a = 1; // Deno.exit()\n/* Date.now() */").indexOf("Deno") < 0);
});

/**
 * What loading a file loads at once: its static value imports (relative ones resolved, npm and
 * node: names as written); `import type` and dynamic `import()` load nothing at start.
 */
function loadedWith(path: string, text: string): string[] {
  const found: string[] = [];
  const stripped = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const patterns = [
    /(?:^|\n)\s*(?:import|export)\s+(?!type\s)[^;]*?from\s*["']([^"']+)["']/g,
    /(?:^|\n)\s*import\s*["']([^"']+)["']/g,
  ];
  for (const pattern of patterns) {
    for (const match of stripped.matchAll(pattern)) {
      const target = match[1] as string;
      found.push(
        target.startsWith(".") ? relative(root, join(root, dirname(path), target)) : target,
      );
    }
  }
  return found;
}

function loadedAtStart(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = texts.get(file);
    if (text !== undefined) { for (const target of loadedWith(file, text)) visit(target); }
  };
  visit(entry);
  return seen;
}

Deno.test("lean start: the CLI front loads no subcommand, serve loads prom-client and the time keeping only on demand", () => {
  assert.deepEqual(
    [...loadedAtStart("main.ts")].sort(),
    [
      "deno.json",
      "main.ts",
      "src/cli/errors.ts",
      "src/cli/main.ts",
      "src/core/version.ts",
      "src/io/load_later.ts",
    ],
  );
  const serve = loadedAtStart("src/daemon/serve.ts");
  assert.ok(serve.has("src/daemon/responders.ts"), "the walk follows serve's imports");
  assert.ok(!serve.has("prom-client"), "prom-client is loaded at start");
  assert.ok(!serve.has("src/daemon/metrics_server.ts"), "the metrics server is loaded at start");
  // The time keeping (upstreams, discipline) loads once the responders answer; the TOML writers
  // of `ntp config import` never.
  for (const later of ["src/daemon/time_keeping.ts", "src/config/toml_writer.ts"]) {
    assert.ok(!serve.has(later), `serve loads ${later} before its first replies`);
  }
  const status = loadedAtStart("src/cli/status_command.ts");
  for (const heavy of ["src/daemon/serve.ts", "prom-client", "smol-toml", "node:dgram"]) {
    assert.ok(!status.has(heavy), `ntp status loads ${heavy}`);
  }
  assert.deepEqual(
    loadedWith("src/x/a.ts", 'import type { A } from "./b.ts";\nimport { C } from "npm-x";\n'),
    ["npm-x"],
  );
});
