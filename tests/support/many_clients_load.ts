// Builds and runs scripts/many_clients_load.c (requests from many distinct client addresses) for tests and the soak script.
import { runCommand } from "./processes.ts";

const source = decodeURIComponent(
  new URL("../../scripts/many_clients_load.c", import.meta.url).pathname,
);

/** What one run of the load generator reported at its end. */
export interface ManyClientsResult {
  readonly sent: number;
  readonly replies: number;
  readonly kod: number;
  readonly other: number;
  /** Every line it printed (one per 10 s, then END). */
  readonly output: string;
}

/** Compiles the generator into `dir` with gcc; returns the binary's path. */
export async function buildManyClientsLoad(dir: string): Promise<string> {
  const binary = `${dir}/many_clients_load`;
  const built = await runCommand(["gcc", "-O2", "-Wall", "-o", binary, source]);
  if (built.code !== 0) throw new Error(`gcc ${source} failed:\n${built.stderr}`);
  return binary;
}

/**
 * Runs the generator: `rate` requests/s for `seconds` from `addresses` distinct sources (IPv4
 * from 127.64.0.0 + `offset`; IPv6 from 2001:db8:5::1 + `offset`, which needs a namespace with
 * that local route and net.ipv6.ip_nonlocal_bind=1) to `host`:`port`.
 *
 * @example
 * ```ts
 * const binary = await buildManyClientsLoad(dir);
 * const result = await runManyClientsLoad(binary, { host: "127.0.0.1", port: 12300,
 *   addresses: 100_000, rate: 50_000, seconds: 10 });
 * ```
 */
export async function runManyClientsLoad(
  binary: string,
  options: {
    readonly host: string;
    readonly port: number;
    readonly addresses: number;
    readonly rate: number;
    readonly seconds: number;
    readonly offset?: number;
    readonly netns?: string;
  },
): Promise<ManyClientsResult> {
  const result = await runCommand([
    binary,
    options.host.includes(":") ? "-6" : "-4",
    "-a",
    String(options.addresses),
    "-r",
    String(options.rate),
    "-d",
    String(options.seconds),
    "-o",
    String(options.offset ?? 0),
    options.host,
    String(options.port),
  ], {
    ...(options.netns === undefined ? {} : { netns: options.netns }),
    timeoutMs: (options.seconds + 30) * 1000,
  });
  const end = /END T=\d+ sent=(\d+) replies=(\d+) kod=(\d+) other=(\d+)/.exec(result.stdout);
  if (result.code !== 0 || end === null) {
    throw new Error(
      `many_clients_load failed (code ${result.code}):\n${result.stdout}${result.stderr}`,
    );
  }
  return {
    sent: Number(end[1]),
    replies: Number(end[2]),
    kod: Number(end[3]),
    other: Number(end[4]),
    output: result.stdout,
  };
}

/** Resident set size of a process, MiB (ps: reading /proc/PID needs --allow-all). */
export async function rssMiB(pid: number): Promise<number> {
  const result = await runCommand(["ps", "-o", "rss=", "-p", String(pid)]);
  const kib = Number(result.stdout.trim());
  if (result.code !== 0 || !Number.isFinite(kib) || kib <= 0) {
    throw new Error(`no RSS for pid ${pid}: ${result.stdout}${result.stderr}`);
  }
  return kib / 1024;
}
