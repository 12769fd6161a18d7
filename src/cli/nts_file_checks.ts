// `ntp config check` on an [nts] section: the certificate and key load and match, the certificate is in date, the cookie key file reads.
import type { Diagnostic } from "../config/diagnostics.ts";
import type { CheckResult } from "../config/parse_config.ts";
import { loadLater } from "../io/load_later.ts";

/** Days before expiry from which a certificate is reported (a warning). */
const expiryWarningDays = 14;

/**
 * The NTS file problems of a checked config (none unless [nts] is enabled), each at the key's
 * FILE:LINE:COL. OpenSSL is loaded only when needed.
 *
 * @example
 * ```ts
 * import { checkConfigText } from "../config/parse_config.ts";
 * const result = checkConfigText("", { fileName: "ntp.toml" });
 * await ntsFileDiagnostics("ntp.toml", result); // []
 * ```
 */
export async function ntsFileDiagnostics(
  file: string,
  result: CheckResult,
  now: Date = new Date(),
): Promise<Diagnostic[]> {
  const { config, source } = result;
  if (config === null || source === null || !config.nts.enable) return [];
  const nts = config.nts;
  const diagnostics: Diagnostic[] = [];
  const at = (key: string, severity: "error" | "warning", message: string) => {
    const { line, column } = source.position(key);
    diagnostics.push({ severity, file, line, column, message: `${source.label(key)}: ${message}` });
  };
  const [tlsModule, keyFileModule] = await Promise.all([
    loadLater<typeof import("../io/tls_server_openssl.ts")>(
      new URL("../io/tls_server_openssl.ts", import.meta.url),
    ),
    loadLater<typeof import("../io/nts_key_file.ts")>(
      new URL("../io/nts_key_file.ts", import.meta.url),
    ),
  ]);
  if (nts.certificateFile !== null && nts.keyFile !== null) {
    try {
      using tls = tlsModule.TlsServerContext.load({
        certificateFile: nts.certificateFile,
        keyFile: nts.keyFile,
        alpn: "ntske/1",
      });
      const validity = tls.validity();
      if (validity !== null) {
        const daysLeft = (validity.notAfter.getTime() - now.getTime()) / 86400_000;
        if (daysLeft < 0) {
          at("nts.cert", "error", `the certificate expired on ${validity.notAfter.toISOString()}`);
        } else if (validity.notBefore.getTime() > now.getTime()) {
          at(
            "nts.cert",
            "error",
            `the certificate is not valid before ${validity.notBefore.toISOString()}`,
          );
        } else if (daysLeft < expiryWarningDays) {
          at(
            "nts.cert",
            "warning",
            `the certificate expires on ${validity.notAfter.toISOString()} (in ${
              Math.floor(daysLeft)
            } days); renew it`,
          );
        }
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      at(
        /key/.test(message) && !/certificate chain/.test(message) ? "nts.key" : "nts.cert",
        "error",
        message,
      );
    }
  }
  if (nts.cookieKeysFile !== null) {
    try {
      await keyFileModule.readNtsKeyFile(nts.cookieKeysFile);
    } catch (error) {
      at("nts.cookie_keys", "error", error instanceof Error ? error.message : String(error));
    }
  }
  return diagnostics;
}
