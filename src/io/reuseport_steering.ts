// Steers each client to one responder thread by its source address (a classic BPF program on
// the SO_REUSEPORT group), so every client meets one rate-limit table whatever its source port.
import { addressOf, Const, type Libc, writeU64 } from "./libc.ts";

/** setsockopt option attaching a classic BPF socket selector to a reuseport group. */
const SO_ATTACH_REUSEPORT_CBPF = 51;
/** Classic BPF's offset base for the network (IP) header: SKF_NET_OFF = -0x100000, as u32. */
const netOffset = 0xfff00000;

const BPF_LD_W_ABS = 0x20;
const BPF_MISC_TAX = 0x07;
const BPF_ALU_XOR_X = 0xac;
const BPF_ALU_MOD_K = 0x94;
const BPF_RET_A = 0x16;

/** One classic BPF instruction: struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; }. */
type Instruction = readonly [code: number, k: number];

/**
 * The selector program: the socket index = hash of the IP source address mod `sockets` (IPv4:
 * the address; IPv6: the XOR of its four words). Pure; exported for tests.
 */
export function steeringProgram(family: 4 | 6, sockets: number): Instruction[] {
  const load = (offset: number): Instruction => [BPF_LD_W_ABS, netOffset + offset];
  const source = family === 4 ? [load(12)] : [
    load(8),
    [BPF_MISC_TAX, 0],
    load(12),
    [BPF_ALU_XOR_X, 0],
    [BPF_MISC_TAX, 0],
    load(16),
    [BPF_ALU_XOR_X, 0],
    [BPF_MISC_TAX, 0],
    load(20),
    [BPF_ALU_XOR_X, 0],
  ] as Instruction[];
  return [...source, [BPF_ALU_MOD_K, sockets], [BPF_RET_A, 0]];
}

/** Encodes instructions as the kernel's struct sock_filter array (8 bytes each). */
export function encodeProgram(program: readonly Instruction[]): Uint8Array {
  const bytes = new Uint8Array(program.length * 8);
  const view = new DataView(bytes.buffer);
  program.forEach(([code, k], i) => {
    view.setUint16(i * 8, code, true);
    view.setUint32(i * 8 + 4, k >>> 0, true);
  });
  return bytes;
}

/**
 * Attaches the selector to the reuseport group of `fd` (whose sockets were bound in worker
 * order). Returns false when the kernel refuses it; the kernel's own 4-tuple hash then applies.
 */
export function attachSourceSteering(
  libc: Libc,
  fd: number,
  options: { readonly family: 4 | 6; readonly sockets: number },
): boolean {
  if (options.sockets < 2) return true;
  const filter = encodeProgram(steeringProgram(options.family, options.sockets));
  const fprog = new Uint8Array(16); // struct sock_fprog { u16 len; pad; struct sock_filter *filter; }
  const view = new DataView(fprog.buffer);
  view.setUint16(0, filter.length / 8, true);
  writeU64(view, 8, addressOf(filter));
  const result = libc.symbols.setsockopt(fd, Const.SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, fprog, 16);
  return result === 0;
}
