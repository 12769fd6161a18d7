// The one log line a process writes when NTS's AES-SIV runs on OpenSSL because Nettle did not load.
import { aesSivChoice } from "../io/aes_siv.ts";

let warned = false;

/**
 * Calls `warn` once per process (the NTS server and the NTS upstreams both ask) when
 * {@link aesSivChoice} is OpenSSL, with the reason Nettle could not be used.
 *
 * @example
 * ```ts
 * warnIfAesSivOnOpenSsl((message) => console.warn(message));
 * ```
 */
export function warnIfAesSivOnOpenSsl(warn: (message: string) => void): void {
  if (warned) return;
  const choice = aesSivChoice();
  if (choice.backend === "nettle") return;
  warned = true;
  warn(
    "NTS: AES-SIV through OpenSSL, slower than with Nettle (in our benchmark an NTS request " +
      `took about twice the time in the core, and one thread served 50,000 instead of 72,500 NTS requests/s): ${choice.reason}`,
  );
}
