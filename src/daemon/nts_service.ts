// The NTS side of `ntp serve`: cookie keys (load, rotate, persist, publish to the responders), the TLS identity (reloaded when renewed) and the NTS-KE server.
import type { NtsConfig } from "../config/ntp_config.ts";
import {
  COOKIE_BYTES,
  createCookieScratch,
  type NtsSessionKeys,
  sealCookie,
} from "../core/nts/cookie.ts";
import {
  ringOf,
  rotationDue,
  type RotationPolicy,
  secondsUntilRotation,
  type StoredCookieKey,
  trimmedKeys,
  withNewKey,
} from "../core/nts/cookie_key_rotation.ts";
import { NTS_KE_ALPN } from "../core/nts/ke_records.ts";
import { createAesSiv } from "../io/aes_siv.ts";
import { warnIfAesSivOnOpenSsl } from "./aes_siv_warning.ts";
import { publishCookieKeys } from "../io/nts_key_buffer.ts";
import { NtsKeyFileError, readNtsKeyFile, writeNtsKeyFile } from "../io/nts_key_file.ts";
import { OpenSslError } from "../io/libcrypto.ts";
import { type NtsKeCounters, type NtsKeServer, startNtsKeServer } from "../io/nts_ke_server.ts";
import { TlsServerContext, TlsSetupError } from "../io/tls_server_openssl.ts";
import { readOnlyHint } from "../io/write_failure_text.ts";
import { monotonicSeconds } from "./daemon_time.ts";
import { log } from "./logging.ts";
import { NtsStartError } from "./nts_start_error.ts";

/** How often the certificate, key and cookie key files are looked at for changes. */
const fileCheckIntervalMs = 60_000;
/** At most this many NTS-KE problems are logged per minute. */
const problemsLoggedPerMinute = 5;

/** The running NTS service. */
export interface NtsService extends AsyncDisposable {
  /** The NTS-KE addresses bound. */
  readonly addresses: readonly { readonly hostname: string; readonly port: number }[];
  /** NTS-KE counters since start. */
  counters(): Readonly<NtsKeCounters> & { readonly openConnections: number };
  close(): Promise<void>;
}

/**
 * Loads (or makes) the cookie keys and publishes them into `keyBuffer`, loads the certificate
 * and starts the NTS-KE server. Call before the responders answer NTS (they drop NTS requests
 * until keys are published).
 *
 * @throws {NtsStartError} When the certificate, the key, the cookie key file or OpenSSL cannot
 *   be used, or the NTS-KE address cannot be bound (the message says which and why).
 * @example
 * ```ts
 * import type { NtsConfig } from "../config/ntp_config.ts";
 * import { createCookieKeyBuffer } from "../io/nts_key_buffer.ts";
 * declare const config: NtsConfig;
 * await using nts = await startNtsService(config, {
 *   keyBuffer: createCookieKeyBuffer(),
 *   ntpPort: () => 123,
 * });
 * ```
 */
export async function startNtsService(
  config: NtsConfig,
  wiring: {
    readonly keyBuffer: SharedArrayBuffer;
    /** The UDP port clients send NTP to (announced when not 123); read per exchange. */
    readonly ntpPort: () => number;
  },
): Promise<NtsService> {
  const logger = log("nts");
  const policy: RotationPolicy = { rotateSeconds: config.rotateSeconds, keep: config.keepKeys };
  const nowUnix = () => Date.now() / 1000;
  const file = config.cookieKeysFile;
  /** Set once close() was called: timers that fire late do nothing then. */
  let closing: Promise<void> | undefined;

  let keys: StoredCookieKey[] = trimmedKeys(
    file === null ? [] : await readNtsKeyFile(file).catch(startError),
    policy,
  );
  let keyFileMtime = await mtimeOf(file);
  const publish = () => publishCookieKeys(wiring.keyBuffer, ringOf(keys));
  const save = async (): Promise<void> => {
    if (file === null) return;
    try {
      await writeNtsKeyFile(file, keys);
      keyFileMtime = await mtimeOf(file);
    } catch (error) {
      logger.warn(
        `cannot write the NTS cookie key file ${file}: ${describe(error)}; cookies issued from ` +
          "now on will not survive a restart" + readOnlyHint(error, file),
      );
    }
  };
  const rotateIfDue = async (): Promise<void> => {
    if (file !== null) {
      // Another server sharing the file may have rotated already: adopt its keys first.
      const fromFile = await readNtsKeyFile(file).catch(() => null);
      if (fromFile !== null) {
        keys = merged(keys, fromFile, policy);
        const inFile = new Set(fromFile.map((key) => key.id));
        // A key only we have (another server rewrote the file meanwhile) goes back into it.
        if (!rotationDue(keys, nowUnix(), policy) && keys.some((key) => !inFile.has(key.id))) {
          await save();
          return;
        }
      }
    }
    if (!rotationDue(keys, nowUnix(), policy)) return;
    keys = withNewKey(keys, freshKey(keys, nowUnix()), policy);
    await save();
    logger.info(
      `new NTS cookie key ${keys[0]!.id}; ${keys.length - 1} older key(s) still accepted`,
    );
  };
  await rotateIfDue();
  publish();
  if (file === null) {
    logger.warn(
      "nts.cookie_keys is not set: after a restart every NTS client must run NTS-KE again",
    );
  }

  const certificateFile = config.certificateFile!;
  const keyFile = config.keyFile!;
  let tls: TlsServerContext;
  try {
    tls = TlsServerContext.load({ certificateFile, keyFile, alpn: NTS_KE_ALPN });
  } catch (error) {
    startError(error);
  }
  let tlsMtimes = `${await mtimeOf(certificateFile)} ${await mtimeOf(keyFile)}`;
  const judgeValidity = (context: TlsServerContext) => {
    const validity = context.validity();
    if (validity === null) return;
    const now = Date.now();
    const until = validity.notAfter.toISOString();
    if (validity.notAfter.getTime() < now) {
      logger.error(
        `NTS certificate ${certificateFile} expired on ${until}: clients will refuse NTS-KE until it is renewed`,
      );
    } else if (validity.notBefore.getTime() > now) {
      logger.error(
        `NTS certificate ${certificateFile} is not valid before ${validity.notBefore.toISOString()}: clients will refuse NTS-KE`,
      );
    } else if (validity.notAfter.getTime() - now < 14 * 86400_000) {
      logger.warn(`NTS certificate ${certificateFile} expires on ${until}: renew it`);
    }
  };
  judgeValidity(tls);

  let aead: ReturnType<typeof createAesSiv>;
  try {
    aead = createAesSiv();
  } catch (error) {
    tls[Symbol.dispose]();
    startError(error);
  }
  warnIfAesSivOnOpenSsl((message) => logger.warn(message));
  const scratch = createCookieScratch();
  const nonce = new Uint8Array(16);
  const issueCookies = (session: NtsSessionKeys, count: number): Uint8Array[] => {
    const ring = ringOf(keys);
    const cookies: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      crypto.getRandomValues(nonce);
      const cookie = new Uint8Array(COOKIE_BYTES);
      sealCookie({ ring, aead, scratch }, { session, nonce }, cookie, 0);
      cookies.push(cookie);
    }
    return cookies;
  };

  let problemsThisMinute = 0;
  let minuteStarted = monotonicSeconds();
  let server: NtsKeServer;
  try {
    server = startNtsKeServer({
      listen: config.listen.map(({ hostname, port }) => ({ hostname, port })),
      tls: () => tls,
      issueCookies,
      aeads: config.aeadIds,
      ntpPort: wiring.ntpPort,
      limits: {
        maxConnections: config.maxConnections,
        timeoutMs: config.timeoutSeconds * 1000,
        perSourceRate: config.perSourceRate,
        perSourceBurst: config.perSourceBurst,
      },
      monotonicSeconds,
      onProblem: ({ peer, reason }) => {
        const now = monotonicSeconds();
        if (now - minuteStarted >= 60) {
          if (problemsThisMinute > problemsLoggedPerMinute) {
            logger.info(
              `${problemsThisMinute - problemsLoggedPerMinute} more NTS-KE problems not logged`,
            );
          }
          minuteStarted = now;
          problemsThisMinute = 0;
        }
        if (++problemsThisMinute <= problemsLoggedPerMinute) {
          logger.info(`NTS-KE ${peer}: ${reason}`);
        }
      },
    });
  } catch (error) {
    tls[Symbol.dispose]();
    const where = config.listen.map(formatAddress).join(", ");
    throw new NtsStartError(
      `cannot listen for NTS-KE on ${where}: ${describe(error)}` +
        (error instanceof Deno.errors.AddrInUse ? " (another NTS server runs there?)" : ""),
    );
  }
  logger.info(
    `NTS-KE on ${server.addresses.map(formatAddress).join(", ")} (certificate ${certificateFile})`,
  );

  let rotationTimer: ReturnType<typeof setTimeout> | undefined;
  const scheduleRotation = () => {
    const seconds = secondsUntilRotation(keys, nowUnix(), policy);
    // setTimeout takes at most 2^31-1 ms; a long period is reached in steps.
    rotationTimer = setTimeout(async () => {
      try {
        await rotateIfDue();
        if (closing !== undefined) return;
        publish();
      } catch (error) {
        logger.error(
          `NTS cookie key rotation failed: ${describe(error)}; trying again in a minute`,
        );
        if (closing === undefined) rotationTimer = setTimeout(scheduleRotation, 60_000);
        return;
      }
      scheduleRotation();
    }, Math.min(Math.max(seconds, 1) * 1000, 2 ** 31 - 1));
  };
  scheduleRotation();

  const fileTimer = setInterval(async () => {
    try {
      await checkFiles();
    } catch (error) {
      logger.warn(`NTS file check failed: ${describe(error)}`);
    }
  }, fileCheckIntervalMs);
  // SIGHUP (certbot's deploy hook: `systemctl reload ntp`) looks at the files at once.
  const onHangup = () => {
    void checkFiles().catch((error) => logger.warn(`NTS file check failed: ${describe(error)}`));
  };
  try {
    Deno.addSignalListener("SIGHUP", onHangup);
  } catch { /* no signals here (tests on other platforms): the minute check remains */ }
  const checkFiles = async () => {
    const mtimes = `${await mtimeOf(certificateFile)} ${await mtimeOf(keyFile)}`;
    if (closing !== undefined) return;
    if (mtimes !== tlsMtimes) {
      tlsMtimes = mtimes;
      try {
        const renewed = TlsServerContext.load({ certificateFile, keyFile, alpn: NTS_KE_ALPN });
        tls[Symbol.dispose]();
        tls = renewed;
        const notAfter = renewed.validity()?.notAfter.toISOString();
        logger.info(
          `NTS certificate reloaded from ${certificateFile}` +
            (notAfter === undefined ? "" : ` (valid until ${notAfter})`),
        );
        judgeValidity(renewed);
      } catch (error) {
        logger.warn(`NTS certificate not reloaded (the old one stays in use): ${describe(error)}`);
      }
    }
    if (file !== null) {
      const mtime = await mtimeOf(file);
      if (mtime !== keyFileMtime) {
        keyFileMtime = mtime;
        const fromFile = await readNtsKeyFile(file).catch((error) => {
          logger.warn(`NTS cookie key file ${file} not re-read: ${describe(error)}`);
          return null;
        });
        if (fromFile !== null && closing === undefined) {
          keys = merged(keys, fromFile, policy);
          publish();
        }
      }
    }
  };

  const close = () => {
    closing ??= (async () => {
      clearTimeout(rotationTimer);
      clearInterval(fileTimer);
      try {
        Deno.removeSignalListener("SIGHUP", onHangup);
      } catch { /* never added */ }
      await server.close();
      tls[Symbol.dispose]();
    })();
    return closing;
  };
  return {
    addresses: server.addresses,
    counters: () => ({ ...server.counters, openConnections: server.openConnections }),
    close,
    [Symbol.asyncDispose]: close,
  };
}

function startError(error: unknown): never {
  if (
    error instanceof NtsKeyFileError || error instanceof TlsSetupError ||
    error instanceof OpenSslError
  ) {
    throw new NtsStartError(error.message);
  }
  throw error;
}

function freshKey(keys: readonly StoredCookieKey[], nowUnixSeconds: number): StoredCookieKey {
  const key = crypto.getRandomValues(new Uint8Array(32));
  let id = 0;
  do id = crypto.getRandomValues(new Uint32Array(1))[0]!; while (keys.some((k) => k.id === id));
  return { id, key, createdUnixSeconds: Math.floor(nowUnixSeconds) };
}

/** Ours and the file's keys together (by id), trimmed to the policy. */
function merged(
  ours: readonly StoredCookieKey[],
  theirs: readonly StoredCookieKey[],
  policy: RotationPolicy,
): StoredCookieKey[] {
  const byId = new Map<number, StoredCookieKey>();
  for (const key of [...ours, ...theirs]) if (!byId.has(key.id)) byId.set(key.id, key);
  return trimmedKeys([...byId.values()], policy);
}

async function mtimeOf(path: string | null): Promise<number | null> {
  if (path === null) return null;
  try {
    return (await Deno.stat(path)).mtime?.getTime() ?? null;
  } catch {
    return null;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function formatAddress(address: { hostname: string; port: number }): string {
  return address.hostname.includes(":")
    ? `[${address.hostname}]:${address.port}`
    : `${address.hostname}:${address.port}`;
}
