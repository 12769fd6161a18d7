// The library's TrueClock: the daemon's time keeping (polling, filters, selection, KoD) run over a soft clock, so a program reads the true time whatever its machine's clock says.
import { ConfigError, type NtpConfig, parseConfigText } from "../config/mod.ts";
import type { ClockReading } from "../io/clock_driver.ts";
import { formatRefid } from "../core/packet/refid.ts";
import { createSoftClock, type SoftClockDriver } from "../io/clock_soft.ts";
// Imported, not loaded on demand: a dynamic import of a local module needs --allow-read.
import { openDgramSocket } from "../io/udp_client_portable.ts";
import { startTimeKeeping, type TimeKeeping } from "../daemon/time_keeping.ts";
import { type LocalClock, localClockReader, monotonicWallClock } from "./local_clock.ts";

/** Options of {@link TrueClock.start}. */
export interface TrueClockOptions {
  /** Servers: "host", "host:port", "[2001:db8::1]:123". At least one server or pool. */
  readonly servers?: readonly string[];
  /** Pool names ("pool.ntp.org"): their addresses are used, up to 10 servers in all. */
  readonly pools?: readonly string[];
  /**
   * Shortest and longest poll interval, log2 seconds (defaults 6 and 10: 64 s to 17 min, as
   * ntpd and chrony; public servers expect no more). After a burst at start (iburst), polls back
   * off from the shortest to the longest as the clock settles.
   */
  readonly minPollLog2?: number;
  /** The longest poll interval, log2 seconds (see minPollLog2). */
  readonly maxPollLog2?: number;
  /**
   * The local clock, epoch milliseconds. Default: the system clock as it was when the program
   * started, advanced by the monotonic clock (`performance.timeOrigin + performance.now()`):
   * microsecond resolution with only --allow-net, and a step of the system clock does not move
   * it. Tests pass a wrong one.
   */
  readonly localClock?: LocalClock;
  /** Called after each change of the estimate (a new offset, frequency or sync state). */
  readonly onChange?: (state: TrueClockState) => void;
}

/** One server as the clock sees it. */
export interface TrueClockServer {
  /** The host as configured, without the port ("pool.ntp.org", "192.0.2.1", "::1"). */
  readonly name: string;
  /** The address polled. */
  readonly address: string;
  /** The UDP port polled. */
  readonly port: number;
  /** The last 8 polls answered, as ntpq's octal reach (0o377: all 8). */
  readonly reach: number;
  /**
   * Its time minus this clock's (the corrected, true time), seconds: near 0 for a server that
   * agrees, the error of a falseticker.
   */
  readonly offsetSeconds: number;
  /** Round trip to it, seconds. */
  readonly delaySeconds: number;
  /** Its stratum (16 until it answered as synchronised). */
  readonly stratum: number;
  /** Its reference id as ntpq shows it. */
  readonly referenceId: string;
  /**
   * ntpq's tally: "*" the one followed, "+" combined, "-" outlier, "x" falseticker, " " not
   * usable (yet), "#" backup.
   */
  readonly tally: " " | "x" | "." | "-" | "+" | "#" | "*" | "o";
  /** The kiss code that made it stop asking this server (DENY, RSTR), or null. */
  readonly kissOfDeath: string | null;
}

/** What the clock knows. */
export interface TrueClockState {
  /** True once enough servers agree (the first within about 10 s of start with iburst). */
  readonly synchronised: boolean;
  /** True time minus the local clock, seconds; 0 until synchronised. */
  readonly offsetSeconds: number;
  /**
   * How far `now()` may be from true time, seconds: the root distance (half the round trip
   * to the reference clocks plus their dispersion, grown since the last update); Infinity while
   * unsynchronised.
   */
  readonly errorBoundSeconds: number;
  /** The servers' stratum plus one; 16 while unsynchronised. */
  readonly stratum: number;
  /** Every server polled. */
  readonly servers: readonly TrueClockServer[];
}

function upstreamToml(kind: "server" | "pool", address: string, options: TrueClockOptions) {
  return [
    `[[${kind}]]`,
    `address = ${JSON.stringify(address)}`,
    "iburst = true",
    `minpoll = ${options.minPollLog2 ?? 6}`,
    `maxpoll = ${options.maxPollLog2 ?? 10}`,
    "",
  ].join("\n");
}

/**
 * True time for a program, from NTP servers, whatever the machine's clock says: polls the servers
 * politely (iburst, then 64 s backing off to 17 min; a Kiss-o'-Death is obeyed), keeps the best
 * estimate of the local clock's offset and drift with the daemon's own filters and selection
 * (falsetickers outvoted), and never changes the system clock. Needs only `--allow-net` (portable
 * UDP; both stamps are read in JavaScript, so the event loop's lag adds to the error: about a
 * millisecond on an idle loop, more under load). When the local clock jumps against the monotonic
 * clock (a step of the system clock with `localClock`, a suspend), the estimate starts afresh:
 * unsynchronised until the next burst of polls agrees. Stop it when done: no timer or socket is
 * left.
 *
 * @example
 * ```ts
 * import { TrueClock } from "./true_clock.ts";
 * await using clock = await TrueClock.start({ pools: ["pool.ntp.org"] });
 * await clock.synchronisation(AbortSignal.timeout(30_000));
 * console.log(clock.now().toISOString(), `+- ${clock.state().errorBoundSeconds} s`);
 * ```
 */
export class TrueClock implements AsyncDisposable {
  readonly #options: TrueClockOptions;
  readonly #config: NtpConfig;
  readonly #readLocal: () => ClockReading;
  #clock: SoftClockDriver;
  #timeKeeping: TimeKeeping | null = null;
  /** Local minus monotonic clock when last looked at, milliseconds (a jump restarts). */
  #divergenceMs: number;
  #restarting: Promise<void> | null = null;
  readonly #waiters = new Set<() => void>();
  #stopping: Promise<void> | undefined;

  private constructor(options: TrueClockOptions, config: NtpConfig) {
    this.#options = options;
    this.#config = config;
    this.#readLocal = localClockReader(options.localClock ?? monotonicWallClock);
    this.#clock = createSoftClock({ kernel: { readRealtime: this.#readLocal } });
    this.#divergenceMs = this.#divergence();
  }

  /**
   * Starts polling. Resolves once the sockets are open and a name resolved (not once
   * synchronised: see {@link TrueClock.synchronisation}).
   *
   * @throws {TypeError} When no server or pool is given, or one is malformed (the message names
   * it). An Error when none of the names resolves.
   */
  static async start(options: TrueClockOptions): Promise<TrueClock> {
    for (const key of ["minPollLog2", "maxPollLog2"] as const) {
      const value = options[key];
      if (value !== undefined && (!Number.isInteger(value) || value < 3 || value > 17)) {
        throw new TypeError(`TrueClock: ${key} ${value} is not an integer from 3 to 17`);
      }
    }
    const text = [
      ...(options.servers ?? []).map((s) => upstreamToml("server", s, options)),
      ...(options.pools ?? []).map((p) => upstreamToml("pool", p, options)),
    ].join("\n");
    if (text === "") throw new TypeError("TrueClock: give at least one server or pool");
    let config: NtpConfig;
    try {
      config = parseConfigText(text, { fileName: "TrueClock options", format: "toml" });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      const errors = error.diagnostics.filter((d) => d.severity === "error");
      throw new TypeError(`TrueClock: ${errors.map((d) => d.message).join("; ")}`);
    }
    const clock = new TrueClock(options, config);
    await clock.#startKeeping();
    if (clock.#timeKeeping!.view().associations.length === 0) {
      await clock.stop();
      throw new Error(
        `TrueClock: none of ${
          [...(options.servers ?? []), ...(options.pools ?? [])].join(", ")
        } resolves to an address`,
      );
    }
    return clock;
  }

  async #startKeeping(): Promise<void> {
    const readClock = this.#readLocal;
    this.#timeKeeping = await startTimeKeeping({
      config: this.#config,
      clock: this.#clock,
      // Stamps in JavaScript: the event loop's lag, not the clock's resolution, limits them.
      precisionLog2: -10,
      onChange: () => this.#changed(),
      openSocket: (socketOptions) => openDgramSocket({ ...socketOptions, readClock }),
    });
  }

  /** Local minus monotonic clock, milliseconds. */
  #divergence(): number {
    const local = this.#readLocal();
    return local.unixSeconds * 1000 + local.nanoseconds / 1e6 -
      (performance.timeOrigin + performance.now());
  }

  /**
   * Whether the local clock jumped against the monotonic one since last looked at (more than
   * 0.5 s: a step or a suspend); then the estimate starts afresh (unsynchronised meanwhile).
   */
  #jumped(): boolean {
    if (this.#stopping !== undefined) return false;
    const divergence = this.#divergence();
    if (Math.abs(divergence - this.#divergenceMs) <= 500) {
      this.#divergenceMs = divergence;
      return this.#restarting !== null;
    }
    this.#divergenceMs = divergence;
    if (this.#restarting === null) {
      const old = this.#timeKeeping;
      this.#timeKeeping = null;
      this.#restarting = (async () => {
        await old?.close();
        this.#clock = createSoftClock({ kernel: { readRealtime: this.#readLocal } });
        if (this.#stopping === undefined) await this.#startKeeping();
      })().finally(() => {
        this.#restarting = null;
        this.#changed();
      });
    }
    return true;
  }

  /** The true time now: the local clock corrected by the estimate. */
  now(): Date {
    return new Date(this.nowMilliseconds());
  }

  /** The true time now, epoch milliseconds (with fractions); the local clock until synchronised. */
  nowMilliseconds(): number {
    this.#jumped();
    const reading = this.#clock.now();
    return reading.unixSeconds * 1000 + reading.nanoseconds / 1e6;
  }

  /**
   * True time minus the local clock (`localClock`, by default the system clock as advanced by the
   * monotonic clock), seconds; 0 until synchronised.
   */
  get offsetSeconds(): number {
    this.#jumped();
    // One reading, both ways: the correction alone, not the time between two readings.
    const local = this.#readLocal();
    const corrected = this.#clock.fromKernel(local);
    return corrected.unixSeconds - local.unixSeconds +
      (corrected.nanoseconds - local.nanoseconds) / 1e9;
  }

  /** Whether enough servers agree to trust {@link TrueClock.now}. */
  get synchronised(): boolean {
    if (this.#jumped()) return false;
    return this.#timeKeeping?.synchronised() !== undefined;
  }

  /** How far {@link TrueClock.now} may be from true time, seconds; Infinity unsynchronised. */
  get errorBoundSeconds(): number {
    return this.state().errorBoundSeconds;
  }

  /** Everything the clock knows, at this moment. */
  state(): TrueClockState {
    const jumped = this.#jumped();
    const keeping = jumped ? null : this.#timeKeeping;
    const view = keeping?.view();
    const synced = keeping?.synchronised();
    return {
      synchronised: synced !== undefined,
      offsetSeconds: this.offsetSeconds,
      errorBoundSeconds: synced === undefined
        ? Infinity
        : synced.rootDelaySeconds / 2 + synced.rootDispersionSeconds,
      stratum: synced?.stratum ?? 16,
      servers: (view?.associations ?? []).map((a) => ({
        name: a.endpoint.name,
        address: a.endpoint.hostname,
        port: a.endpoint.port,
        reach: a.reach,
        offsetSeconds: a.offsetSeconds,
        delaySeconds: a.delaySeconds,
        stratum: a.stratum,
        referenceId: formatRefid(a.referenceId, a.stratum),
        tally: a.tally as TrueClockServer["tally"],
        kissOfDeath: a.demobilisedBy,
      })),
    };
  }

  /**
   * Resolves once synchronised (at once when it is); rejects with `signal`'s reason when it
   * aborts first, and when the clock is (or gets) stopped.
   */
  synchronisation(signal?: AbortSignal): Promise<void> {
    if (this.#stopping !== undefined) {
      return Promise.reject(new Error("TrueClock is stopped"));
    }
    if (this.synchronised) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = () => {
        this.#waiters.delete(check);
        signal?.removeEventListener("abort", onAbort);
      };
      const check = () => {
        if (this.#stopping !== undefined) {
          done();
          reject(new Error("TrueClock stopped before it synchronised"));
        } else if (this.synchronised) {
          done();
          resolve();
        }
      };
      const onAbort = () => {
        done();
        reject(signal!.reason);
      };
      if (signal?.aborted) return reject(signal.reason);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.add(check);
    });
  }

  /** Stops polling and closes the sockets; no timer is left. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      await this.#restarting;
      await this.#timeKeeping?.close();
      for (const waiter of [...this.#waiters]) waiter();
    })();
    return this.#stopping;
  }

  /** Stops the clock (`await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  /** After a change inside the time keeping: waiters and the callback run in a microtask. */
  #changed(): void {
    queueMicrotask(() => {
      if (this.#stopping !== undefined) return;
      for (const waiter of [...this.#waiters]) waiter();
      // A throw here is the callback's own: it surfaces as an uncaught error.
      if (this.#options.onChange !== undefined) this.#options.onChange(this.state());
    });
  }
}
