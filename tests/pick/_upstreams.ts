// Local upstreams for the pick tests: chronyd -x behind a delaying relay, the misbehaving fake server (KoD, unsync, +0.5 s), and silent sockets.
import dgram from "node:dgram";
import { type ChronydServer, startChronydServer } from "../support/chronyd_server.ts";
import {
  type FakeBehaviour,
  type FakeNtpServer,
  startFakeNtpServer,
} from "../support/fake_ntp_server.ts";
import { freeUdpPort } from "../support/ports.ts";
import { type CommandResult, runCommand } from "../support/processes.ts";
import { ntpTaskFlags } from "../support/ntp_server_process.ts";
import { startUdpRelay, type UdpRelay } from "../support/udp_relay.ts";

const repoRoot = new URL("../../", import.meta.url);

/**
 * A chronyd -x (local stratum 1) on 127.0.0.1 behind a relay adding `oneWayMs` each way (the
 * relay's timers make 3 ms the least it adds reliably); 0: no relay. The port to use.
 */
export async function chronydBehindRelay(
  stack: AsyncDisposableStack,
  oneWayMs: number,
): Promise<{ port: number; chronyd: ChronydServer; relay: UdpRelay | null }> {
  const chronydPort = await freeUdpPort();
  const chronyd = stack.use(
    await startChronydServer({ port: chronydPort, bindAddresses: ["127.0.0.1"], localStratum: 1 }),
  );
  if (oneWayMs === 0) return { port: chronydPort, chronyd, relay: null };
  const relay = stack.use(
    await startUdpRelay({
      target: { hostname: "127.0.0.1", port: chronydPort },
      toTarget: { delayMs: oneWayMs },
      toClient: { delayMs: oneWayMs },
      idleExitMs: 300_000,
    }),
  );
  return { port: relay.port, chronyd, relay };
}

/** A fake server (tests/support/fake_ntp_server.ts) with `behaviour` on a free 127.0.0.1 port, in this process. */
export async function fakeNtpServer(
  stack: AsyncDisposableStack,
  behaviour: FakeBehaviour,
): Promise<FakeNtpServer> {
  return stack.use(await startFakeNtpServer({ behaviour }));
}

/** A bound UDP socket on 127.0.0.1 that reads and never answers; its port. */
export async function silentServer(stack: AsyncDisposableStack): Promise<number> {
  const socket = dgram.createSocket("udp4");
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(0, "127.0.0.1", () => resolve());
  });
  socket.on("message", () => {});
  stack.defer(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  return socket.address().port;
}

/** Runs `ntp ARGS...` from source (main.ts, deno.json's task flags) under setpriv; its output. */
export async function runNtp(
  args: readonly string[],
  options: { timeoutMs?: number } = {},
): Promise<CommandResult> {
  return await runCommand(
    [
      Deno.execPath(),
      "run",
      ...await ntpTaskFlags(),
      decodeURIComponent(new URL("main.ts", repoRoot).pathname),
      ...args,
    ],
    {
      cwd: repoRoot,
      env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
      timeoutMs: options.timeoutMs ?? 60_000,
    },
  );
}
