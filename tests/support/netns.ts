// Creates throw-away network namespaces (and veth links between them) for end-to-end tests; never touches the host's network.

let namespaceCounter = 0;
let linkCounter = 0;

/**
 * A network namespace this test run created, with `lo` up. Owns it: dispose it (`await using`) to
 * delete it (which also removes every veth end inside it).
 */
export class NetworkNamespace implements AsyncDisposable {
  /** The namespace name, `ntpt-<pid>-<n>`. */
  readonly name: string;
  #deleted = false;

  /** Takes ownership of an existing namespace by name. */
  constructor(name: string) {
    this.name = name;
  }

  /** Deletes the namespace. Idempotent. */
  async delete(): Promise<void> {
    if (this.#deleted) return;
    this.#deleted = true;
    await ip(["netns", "delete", this.name]);
  }

  /** Deletes the namespace. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.delete();
  }
}

/**
 * Creates a uniquely named namespace (`ntpt-<pid>-<n>`) and brings its loopback up
 * (127.0.0.1 and ::1 then work inside it).
 */
export async function createNetns(): Promise<NetworkNamespace> {
  const name = `ntpt-${Deno.pid}-${++namespaceCounter}`;
  await ip(["netns", "add", name]);
  const namespace = new NetworkNamespace(name);
  try {
    await ip(["-n", name, "link", "set", "lo", "up"]);
  } catch (error) {
    await namespace.delete();
    throw error;
  }
  return namespace;
}

/** The addresses of a veth link made by {@link connectNetns}. */
export interface VethLink {
  /** IPv4 address of the first namespace's end, e.g. 10.201.3.1. */
  readonly ipv4A: string;
  /** IPv4 address of the second namespace's end, e.g. 10.201.3.2. */
  readonly ipv4B: string;
  /** IPv6 ULA address of the first namespace's end, e.g. fd00:201:3::1. */
  readonly ipv6A: string;
  /** IPv6 ULA address of the second namespace's end, e.g. fd00:201:3::2. */
  readonly ipv6B: string;
  /** Interface name of the first namespace's end. */
  readonly deviceA: string;
  /** Interface name of the second namespace's end. */
  readonly deviceB: string;
}

/**
 * Connects two of our namespaces with a veth pair created directly inside them (never in the host
 * namespace), and gives each end a 10.201.N.0/24 IPv4 address and an fd00:201:N::/64 IPv6 address
 * (nodad, so it is usable at once). The pair disappears when either namespace is deleted.
 */
export async function connectNetns(
  a: NetworkNamespace,
  b: NetworkNamespace,
): Promise<VethLink> {
  const n = (++linkCounter % 250) + 1;
  const tag = `${Deno.pid % 100000}${n}`.slice(-9);
  const endA = `nta${tag}`;
  const endB = `ntb${tag}`;
  await ip([
    "-n",
    a.name,
    "link",
    "add",
    endA,
    "type",
    "veth",
    "peer",
    "name",
    endB,
    "netns",
    b.name,
  ]);
  const link: VethLink = {
    ipv4A: `10.201.${n}.1`,
    ipv4B: `10.201.${n}.2`,
    ipv6A: `fd00:201:${n}::1`,
    ipv6B: `fd00:201:${n}::2`,
    deviceA: endA,
    deviceB: endB,
  };
  for (
    const [ns, dev, v4, v6] of [[a.name, endA, link.ipv4A, link.ipv6A], [
      b.name,
      endB,
      link.ipv4B,
      link.ipv6B,
    ]] as const
  ) {
    await ip(["-n", ns, "addr", "add", `${v4}/24`, "dev", dev]);
    await ip(["-n", ns, "-6", "addr", "add", `${v6}/64`, "dev", dev, "nodad"]);
    await ip(["-n", ns, "link", "set", dev, "up"]);
  }
  return link;
}

/** Runs `ip ARGS...` (as root, in the host namespace only to address our named namespaces). */
async function ip(args: readonly string[]): Promise<void> {
  const out = await new Deno.Command("ip", {
    args: [...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (out.code !== 0) {
    throw new Error(
      `ip ${args.join(" ")} failed (${out.code}): ${new TextDecoder().decode(out.stderr)}`,
    );
  }
}
