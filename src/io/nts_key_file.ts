// The NTS cookie key file: one key per line ("id created-unix-seconds hex-key"), written atomically with mode 0600.
import { writeFileAtomically } from "./atomic_write.ts";
import type { StoredCookieKey } from "../core/nts/cookie_key_rotation.ts";
import { AES_SIV_KEY_BYTES } from "../core/nts/aead.ts";

/** A key file that exists but cannot be used, with the line at fault. */
export class NtsKeyFileError extends Error {
  override name = "NtsKeyFileError";
}

const HEADER = "# ntp NTS cookie keys: id created-unix-seconds key (hex). Secret: keep mode 0600.";

/**
 * Reads the key file; [] when it does not exist.
 *
 * @throws {NtsKeyFileError} When a line is malformed (names file:line) or the file is unreadable.
 * @example
 * ```ts
 * const keys = await readNtsKeyFile("/var/lib/ntp/nts-keys");
 * ```
 */
export async function readNtsKeyFile(path: string): Promise<StoredCookieKey[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw new NtsKeyFileError(
      `cannot read the NTS cookie key file ${path}: ${
        error instanceof Error ? error.message : error
      }`,
    );
  }
  const keys: StoredCookieKey[] = [];
  text.split("\n").forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const match = /^(\d{1,10})\s+(-?\d{1,12})\s+([0-9a-fA-F]{64})$/.exec(line);
    const id = match === null ? NaN : Number(match[1]);
    if (match === null || id > 0xffffffff) {
      throw new NtsKeyFileError(
        `${path}:${
          index + 1
        }: expected "ID CREATED KEY" (a 32-bit id, Unix seconds, ${AES_SIV_KEY_BYTES} bytes of hex)`,
      );
    }
    const key = new Uint8Array(AES_SIV_KEY_BYTES);
    for (let i = 0; i < key.length; i++) key[i] = parseInt(match[3]!.slice(i * 2, i * 2 + 2), 16);
    keys.push({ id, key, createdUnixSeconds: Number(match[2]) });
  });
  return keys;
}

/**
 * Writes the keys with mode 0600, atomically (atomic_write.ts: a crash at any moment leaves the
 * old file or the new one, never a torn one).
 *
 * @throws {AtomicWriteError} When the file cannot be written (the old one stays).
 *
 * @example
 * ```ts
 * await writeNtsKeyFile("/var/lib/ntp/nts-keys", []);
 * ```
 */
export async function writeNtsKeyFile(
  path: string,
  keys: readonly StoredCookieKey[],
): Promise<void> {
  const lines = [HEADER];
  for (const key of keys) {
    const hex = Array.from(key.key, (byte) => byte.toString(16).padStart(2, "0")).join("");
    lines.push(`${key.id} ${Math.floor(key.createdUnixSeconds)} ${hex}`);
  }
  await writeFileAtomically(path, lines.join("\n") + "\n", { mode: 0o600 });
}
