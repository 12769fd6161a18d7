#!/usr/bin/env bash
# Discipline benchmark: how well a soft-disciplined server keeps time behind a bad path, ours vs chronyd.
#
# Usage: scripts/bench_discipline.sh            (as root; starts everything itself, kills it on exit)
# Environment:
#   DURATION      seconds both clients discipline before they are measured (default 300)
#   POLL          poll exponent for both clients, log2 s (default 3 = 8 s; ours accepts 3..17)
#   DELAY_OUT, DELAY_BACK    relay delay client->upstream and back, ms (default 5 and 1: asymmetric)
#   JITTER_OUT, JITTER_BACK  relay jitter, uniform ms (default 2 and 0.5)
#   LOSS_OUT, LOSS_BACK      relay loss probability (default 0.02 and 0)
#   COUNT, INTERVAL_MS       probe samples per measurement and their spacing (default 40, 100)
#   UP_PORT, RELAY_PORT, CHRONY_PORT, OUR_PORT   loopback ports (default 14123..14126; chronyd's
#                 client requests leave from CHRONY_PORT+10)
#
# Layout, all on 127.0.0.1, every daemon under `setpriv --bounding-set=-sys_time` (nothing can
# touch the host clock; chronyd only with -x):
#   upstream chronyd -x (local stratum 1) <- relay (tests/support/udp_relay.ts: delay, jitter,
#   loss, asymmetry) <- { chronyd -x client+server, our `ntp serve --clock soft` }
# chronyd -x disciplines a virtual clock (its null driver) and serves it, as our soft clock does.
# All of them read the same kernel clock, so the true offset between any two is 0: a probe sent
# DIRECTLY (no relay) to each client measures its served-time error (NTP sign: positive = the
# client serves time ahead of the kernel clock). The ideal result is the asymmetry bias
# +(DELAY_OUT - DELAY_BACK)/2, which no NTP client can see (the upstream looks that much ahead
# through the relay); the distance from it and the spread around it are the discipline's error. Phase 0 probes the upstream through the relay: the raw measurement noise.
# Exit 0 when all measurements ran; ours is reported "not synchronised" if it never was.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
duration="${DURATION:-300}"
poll="${POLL:-3}"
delay_out="${DELAY_OUT:-5}"
delay_back="${DELAY_BACK:-1}"
jitter_out="${JITTER_OUT:-2}"
jitter_back="${JITTER_BACK:-0.5}"
loss_out="${LOSS_OUT:-0.02}"
loss_back="${LOSS_BACK:-0}"
count="${COUNT:-40}"
interval_ms="${INTERVAL_MS:-100}"
up_port="${UP_PORT:-14123}"
relay_port="${RELAY_PORT:-14124}"
chrony_port="${CHRONY_PORT:-14125}"
our_port="${OUR_PORT:-14126}"

for tool in chronyd chronyc setpriv deno; do
  command -v "$tool" >/dev/null || { echo "bench_discipline: $tool not found" >&2; exit 2; }
done
nocap=(setpriv --bounding-set=-sys_time --)
deno_run=(deno run --allow-net --allow-ffi --allow-read --allow-write --allow-env --allow-sys --allow-run)

work="$(mktemp -d /tmp/ntp-bench-discipline.XXXXXX)"
pids=()
cleanup() {
  local status=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ $status -ne 0 ]]; then
    echo "--- logs ($work) ---" >&2
    tail -n 20 "$work"/*.log >&2 2>/dev/null || true
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT INT TERM

kernel_before="$(/usr/bin/python3 "$repo/../shared/interop/adjtimex_read.py" 2>/dev/null || echo unavailable)"

# 1. Upstream reference: chronyd -x serving its unmodified clock at stratum 1.
cat >"$work/upstream.conf" <<EOT
port $up_port
bindaddress 127.0.0.1
allow 127.0.0.1
local stratum 1
cmdport 0
pidfile $work/upstream.pid
EOT
"${nocap[@]}" chronyd -x -d -u root -f "$work/upstream.conf" >"$work/upstream.log" 2>&1 &
pids+=("$!")

# 2. The relay, in its own process so its timing does not share an event loop.
cd "$repo"
"${nocap[@]}" "${deno_run[@]}" tests/support/udp_relay.ts \
  --listen "127.0.0.1:$relay_port" --target "127.0.0.1:$up_port" \
  --delay-out "$delay_out" --jitter-out "$jitter_out" --loss-out "$loss_out" \
  --delay-back "$delay_back" --jitter-back "$jitter_back" --loss-back "$loss_back" \
  --idle-exit 120 --lifetime $((duration + 600)) >"$work/relay.out" 2>"$work/relay.log" &
relay_pid=$!
pids+=("$relay_pid")
for _ in $(seq 100); do
  grep -q '^RELAY' "$work/relay.out" 2>/dev/null && break
  sleep 0.1
done
grep -q '^RELAY' "$work/relay.out" || { echo "bench_discipline: relay did not start" >&2; exit 1; }

probe() {
  "${nocap[@]}" "${deno_run[@]}" scripts/bench_discipline_probe.ts --target "$1" \
    --count "$count" --interval-ms "$interval_ms"
}

sleep 1
echo "phase 0: upstream through the relay (raw measurements)" >&2
raw="$(probe "127.0.0.1:$relay_port")"

# 3. The two clients, side by side through the same relay.
cat >"$work/chrony-client.conf" <<EOT
server 127.0.0.1 port $relay_port iburst minpoll $poll maxpoll $poll
acquisitionport $((chrony_port + 10))
port $chrony_port
bindaddress 127.0.0.1
allow 127.0.0.1
bindcmdaddress $work/chronyc.sock
cmdport 0
pidfile $work/chrony-client.pid
driftfile $work/chrony-client.drift
EOT
"${nocap[@]}" chronyd -x -d -u root -f "$work/chrony-client.conf" >"$work/chrony-client.log" 2>&1 &
pids+=("$!")

cat >"$work/ours.toml" <<EOT
driftfile = "$work/ours.drift"
listen = ["127.0.0.1:$our_port"]

[[server]]
address = "127.0.0.1"
port = $relay_port
iburst = true
minpoll = $poll
maxpoll = $poll

[serve]
clock = "soft"
workers = 1
EOT
"${nocap[@]}" "${deno_run[@]}" main.ts serve --config "$work/ours.toml" --clock soft \
  >"$work/ours.out" 2>"$work/ours.log" &
ours_pid=$!
pids+=("$ours_pid")

echo "phase 1: both clients discipline for $duration s (poll 2^$poll s)" >&2
sleep "$duration"

echo "phase 2: probing each client directly" >&2
chrony_result="$(probe "127.0.0.1:$chrony_port")"
if kill -0 "$ours_pid" 2>/dev/null; then
  our_result="$(probe "127.0.0.1:$our_port")"
else
  our_result='{"error":"our daemon exited; see its log"}'
  tail -n 5 "$work/ours.log" >&2 || true
fi
tracking="$(chronyc -h "$work/chronyc.sock" -n tracking 2>&1 | sed -n '/Last offset/,/Skew/p' || true)"

kill "$relay_pid" 2>/dev/null || true
wait "$relay_pid" 2>/dev/null || true
kernel_after="$(/usr/bin/python3 "$repo/../shared/interop/adjtimex_read.py" 2>/dev/null || echo unavailable)"

RAW="$raw" CHRONY="$chrony_result" OURS="$our_result" DELAY_OUT="$delay_out" \
  DELAY_BACK="$delay_back" JITTER_OUT="$jitter_out" JITTER_BACK="$jitter_back" \
  /usr/bin/python3 - <<'EOT'
import json, os
out, back = float(os.environ["DELAY_OUT"]), float(os.environ["DELAY_BACK"])
jout, jback = float(os.environ["JITTER_OUT"]), float(os.environ["JITTER_BACK"])
ideal = (out - back) / 2 / 1000
mean_bias = ((out + jout / 2) - (back + jback / 2)) / 2 / 1000
print(f"relay: out {out}+U(0,{jout}) ms, back {back}+U(0,{jback}) ms; ideal served error "
      f"(fixed asymmetry) {ideal*1e6:+.0f} us; with the mean jitter {mean_bias*1e6:+.0f} us")
def row(name, text, ideal_offset):
    r = json.loads(text)
    if "error" in r or r.get("offsetSeconds") is None:
        print(f"{name:28s} {r.get('error', 'no replies')}")
        return
    o, d = r["offsetSeconds"], r["delaySeconds"]
    synced = r["stratum"] < 16 and r["leap"] != 3
    note = "" if synced else "  NOT SYNCHRONISED (stratum %d, leap %d)" % (r["stratum"], r["leap"])
    print(f"{name:28s} offset mean {o['mean']*1e6:+9.1f} us  sd {o['sd']*1e6:8.1f} us  "
          f"|err-ideal| {abs(o['mean']-ideal_offset)*1e6:8.1f} us  delay median {d['median']*1e6:8.1f} us  "
          f"lost {r['lost']}/{r['sent']}  stratum {r['stratum']}{note}")
row("raw via relay (upstream)", os.environ["RAW"], ideal)
row("chronyd -x served time", os.environ["CHRONY"], ideal)
row("ours (soft) served time", os.environ["OURS"], ideal)
EOT
echo "chronyc tracking of the chronyd client:"
echo "$tracking" | sed 's/^/  /'
echo "relay counters: $(tail -n 1 "$work/relay.out")"
echo "kernel clock before: $kernel_before"
echo "kernel clock after:  $kernel_after"
if [[ "$kernel_before" != "$kernel_after" ]]; then
  echo "bench_discipline: THE KERNEL CLOCK STATE CHANGED" >&2
  exit 4
fi
