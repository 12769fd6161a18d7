// Test helpers for the metrics endpoint: parse the text exposition, look up samples, and run promtool check metrics on it.

/** One parsed sample line: name, labels, value. */
export interface ParsedSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Where scripts/install_test_peers.sh extracts promtool (Debian's prometheus package). */
const extractedPromtool = "/tmp/ntp-test-peers/prometheus-root/usr/bin/promtool";

function unescapeLabel(text: string): string {
  return text.replace(/\\(["\\n])/g, (_, c: string) => (c === "n" ? "\n" : c));
}

/**
 * Parses the sample lines of a 0.0.4 text exposition (comments and blank lines skipped). Throws
 * on a line it cannot read, so a malformed exposition fails the test.
 */
export function parseExposition(text: string): ParsedSample[] {
  const samples: ParsedSample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null) throw new Error(`cannot parse exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1]!] = unescapeLabel(pair[2]!);
    }
    const raw = match[3]!;
    const value = raw === "+Inf" ? Infinity : raw === "-Inf" ? -Infinity : Number(raw);
    samples.push({ name: match[1]!, labels, value });
  }
  return samples;
}

/** The value of the one sample named `name` whose labels include `labels`; throws when not exactly one. */
export function sampleValue(
  samples: readonly ParsedSample[],
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number {
  const found = samples.filter((s) =>
    s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)
  );
  if (found.length !== 1) {
    throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}`);
  }
  return found[0]!.value;
}

/** The promtool binary: on PATH, else where install_test_peers.sh extracts it. */
export async function promtoolPath(): Promise<string> {
  for (const candidate of ["promtool", extractedPromtool]) {
    try {
      const out = await new Deno.Command(candidate, {
        args: ["--version"],
        stdout: "null",
        stderr: "null",
      })
        .output();
      if (out.success) return candidate;
    } catch {
      // Not there.
    }
  }
  throw new Error("promtool not found: run scripts/install_test_peers.sh");
}

/** Runs `promtool check metrics` on `text` and throws with its output unless it exits 0 silently. */
export async function assertPromtoolAccepts(text: string): Promise<void> {
  const child = new Deno.Command(await promtoolPath(), {
    args: ["check", "metrics"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const out = await child.output();
  const decoder = new TextDecoder();
  const report = decoder.decode(out.stdout) + decoder.decode(out.stderr);
  if (out.code !== 0 || report.trim() !== "") {
    throw new Error(
      `promtool check metrics (exit ${out.code}):\n${report}\n--- input ---\n${text}`,
    );
  }
}
