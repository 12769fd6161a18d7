// What a responder thread needs to serve NTS: its AES-SIV instances, random bytes, the shared cookie keys.
import { createNtsScratch, type NtsServerContext } from "../core/nts/nts_request.ts";
import { writeUnixAsNtp } from "../core/time/ntp_timestamp.ts";
import { createAesSiv } from "./aes_siv.ts";
import { bufferedRandom, openLibcrypto } from "./libcrypto.ts";
import { packetBytes } from "./mmsg_batch.ts";
import { createCookieKeyReader } from "./nts_key_buffer.ts";

/** The NTS context of one responder thread and the refresh of its keys. */
export interface NtsResponder {
  /** Valid once {@link NtsResponder.refresh} returned true at least once. */
  readonly context: NtsServerContext;
  /** Reads the shared keys when they changed; true when `context` has (new) keys to use. */
  refresh(): boolean;
}

/**
 * Builds a thread's NTS context on `keyBuffer`. `now` reads the (corrected) clock for the
 * transmit timestamp NTS replies are sealed with.
 *
 * @throws {OpenSslError} When OpenSSL 3 cannot be loaded.
 * @example
 * ```ts
 * import { createCookieKeyBuffer } from "./nts_key_buffer.ts";
 * const nts = createNtsResponder(createCookieKeyBuffer(), () => ({ unixSeconds: 0, nanoseconds: 0 }));
 * nts.refresh(); // false: nothing published yet
 * ```
 */
export function createNtsResponder(
  keyBuffer: SharedArrayBuffer,
  now: () => { unixSeconds: number; nanoseconds: number },
): NtsResponder {
  const crypto = openLibcrypto();
  const reader = createCookieKeyReader(keyBuffer);
  const random = bufferedRandom(crypto);
  const stamp = new DataView(new ArrayBuffer(8));
  const stampBytes = new Uint8Array(stamp.buffer);
  let context: NtsServerContext | null = null;
  const build = (): NtsServerContext => ({
    ring: reader.ring!,
    cookieAead: createAesSiv(),
    sessionAead: createAesSiv(),
    randomBytes: random,
    writeTransmitTime: (out) => {
      const reading = now();
      writeUnixAsNtp(stamp, 0, reading.unixSeconds, reading.nanoseconds);
      out.set(stampBytes, 40);
    },
    scratch: createNtsScratch(packetBytes),
  });
  return {
    get context(): NtsServerContext {
      if (context === null) throw new Error("NTS keys not published yet");
      return context;
    },
    refresh(): boolean {
      if (!reader.refresh()) return false;
      if (context === null) context = build();
      else context.ring = reader.ring!;
      return true;
    },
  };
}
