#!/usr/bin/env bash
# Serving benchmark: our responders vs chronyd -x on loopback, side by side, with ntpload; plus
# scripts/floor_responder.c, the same recvmmsg/sendmmsg pattern in bare C, as the machine's floor.
#
# Usage: scripts/bench_serve.sh            (from anywhere; needs root for nothing but taskset/setpriv)
# Environment:
#   NTPLOAD_SRC   ntpload.c (default: scripts/ntpload.c)
#   ROUNDS        rounds of each measurement, alternating servers (default 3); medians reported
#   WORKERS       responder threads of ours (default 1: the server gets one CPU)
#   PROFILE       "limited" (default: loopback rule has `limited`, every packet goes through
#                 the rate table) or "exempt" (loopback rule without `limited`); see
#                 scripts/serve_bench_target.ts
#   IO            fast (default) or portable
#   RCVBUF        our SO_RCVBUF request in bytes (default: the responders' 4 MiB, capped by
#                 net.core.rmem_max); RCVBUF=212992 is the kernel default chronyd runs with
#   OUR_PORT, CHRONY_PORT, FLOOR_PORT   loopback ports (default 12124, 13123, 14123)
#   TRIAL_SECS    seconds per ntpload --max trial (default 2, at most 10)
#   LATENCY_SECS  seconds per latency round at half chronyd's max rate (default 10)
#   SERVER_CPU, LOAD_CPU    CPUs for the servers and the load generator (default 1 and 0)
#
# All three servers run pinned to SERVER_CPU under `setpriv --bounding-set=-sys_time` (they cannot
# touch the clock); chronyd only with -x. ntpload runs pinned to LOAD_CPU. Targets:
# (the floor shows what any single-threaded server could reach here, not a target)
# our max >= 1.3x chronyd's max (<1% loss), our p99 at half chronyd's max <= chronyd's.
# Everything started here is killed on exit.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
src="${NTPLOAD_SRC:-$here/ntpload.c}"
rounds="${ROUNDS:-3}"
workers="${WORKERS:-1}"
profile="${PROFILE:-limited}"
io="${IO:-fast}"
rcvbuf="${RCVBUF:-}"
our_port="${OUR_PORT:-12124}"
chrony_port="${CHRONY_PORT:-13123}"
floor_port="${FLOOR_PORT:-14123}"
trial_secs="${TRIAL_SECS:-2}"
latency_secs="${LATENCY_SECS:-10}"
server_cpu="${SERVER_CPU:-1}"
load_cpu="${LOAD_CPU:-0}"

[[ -f "$src" ]] || { echo "bench_serve: ntpload.c not found at $src (set NTPLOAD_SRC)" >&2; exit 2; }
for tool in gcc chronyd taskset setpriv deno; do
  command -v "$tool" >/dev/null || { echo "bench_serve: $tool not found" >&2; exit 2; }
done

work="$(mktemp -d /tmp/ntp-bench.XXXXXX)"
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

gcc -O2 -Wall -Wextra -o "$work/ntpload" "$src"
gcc -O2 -Wall -Wextra -o "$work/floor_responder" "$here/floor_responder.c"

cat >"$work/chrony.conf" <<EOT
port $chrony_port
bindaddress 127.0.0.1
allow 127.0.0.1
local stratum 10
cmdport 0
pidfile $work/chronyd.pid
EOT
taskset -c "$server_cpu" setpriv --bounding-set=-sys_time -- \
  chronyd -x -d -u root -f "$work/chrony.conf" >"$work/chronyd.log" 2>&1 &
chrony_pid=$!
pids+=("$chrony_pid")

taskset -c "$server_cpu" setpriv --bounding-set=-sys_time -- \
  "$work/floor_responder" "$floor_port" >"$work/floor.out" 2>"$work/floor.log" &
floor_pid=$!
pids+=("$floor_pid")

cd "$repo"
taskset -c "$server_cpu" setpriv --bounding-set=-sys_time -- \
  deno run --allow-ffi --allow-net --allow-read --allow-env --allow-sys \
  scripts/serve_bench_target.ts --port "$our_port" --workers "$workers" --io "$io" \
  --profile "$profile" ${rcvbuf:+--receive-buffer-bytes "$rcvbuf"} >"$work/ours.out" 2>"$work/ours.log" &
our_pid=$!
pids+=("$our_pid")

for _ in $(seq 100); do
  grep -q '^READY' "$work/ours.out" 2>/dev/null && break
  kill -0 "$our_pid" 2>/dev/null || { echo "bench_serve: our server exited" >&2; exit 1; }
  sleep 0.2
done
grep -q '^READY' "$work/ours.out" || { echo "bench_serve: our server did not start" >&2; exit 1; }
kill -0 "$chrony_pid" || { echo "bench_serve: chronyd exited" >&2; exit 1; }
kill -0 "$floor_pid" || { echo "bench_serve: floor_responder exited" >&2; exit 1; }

field() { # field NAME LINE -> value of NAME=... in an ntpload result line
  tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"
}
median() { # median of the arguments (numeric)
  printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
load() { # load PID PORT ARGS... -> the final MAX/RESULT line
  local pid=$1 port=$2
  shift 2
  taskset -c "$load_cpu" "$work/ntpload" "$@" -p "$pid" 127.0.0.1 "$port" | tail -n 1
}

echo "ntp serving benchmark: $(date -u +%FT%TZ), $(nproc) CPUs, kernel $(uname -r), $(chronyd -v | head -n 1)"
echo "ours: io=$io workers=$workers profile=$profile rcvbuf=${rcvbuf:-default} port=$our_port; chronyd -x port=$chrony_port; floor port=$floor_port"
echo "servers on CPU $server_cpu, ntpload on CPU $load_cpu, $rounds rounds alternating"
echo

servers=(chronyd ours floor)
declare -A pid_of=([chronyd]=$chrony_pid [ours]=$our_pid [floor]=$floor_pid)
declare -A port_of=([chronyd]=$chrony_port [ours]=$our_port [floor]=$floor_port)
declare -A max_of p99_of loss_of cpu_of

for round in $(seq "$rounds"); do
  for server in "${servers[@]}"; do
    line=$(load "${pid_of[$server]}" "${port_of[$server]}" --max -r 40000 -t "$trial_secs")
    printf 'round %s %-8s %s\n' "$round" "$server:" "$line"
    max_of[$server]+=" $(field rate "$line")"
    sleep 1
  done
done
chrony_max_median=$(median ${max_of[chronyd]})
half=$(awk -v r="$chrony_max_median" 'BEGIN { printf "%d", r / 2 }')
echo

for round in $(seq "$rounds"); do
  for server in "${servers[@]}"; do
    line=$(load "${pid_of[$server]}" "${port_of[$server]}" -r "$half" -d "$latency_secs")
    printf 'round %s %-8s @ %s/s: %s\n' "$round" "$server" "$half" "$line"
    p99_of[$server]+=" $(field p99_us "$line")"
    loss_of[$server]+=" $(field loss_pct "$line")"
    cpu_of[$server]+=" $(field srv_cpu_pct "$line")"
    sleep 1
  done
done

kill "$our_pid"
wait "$our_pid" 2>/dev/null || true
echo
echo "our counters: $(tail -n 1 "$work/ours.log")"
echo
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
m() { median ${1}; }
printf 'SUMMARY max rate (<1%% loss), median of %s: chronyd %s/s, ours %s/s, floor %s/s; ours/chronyd %s (target >= 1.3), floor/chronyd %s, ours/floor %s\n' \
  "$rounds" "$(m "${max_of[chronyd]}")" "$(m "${max_of[ours]}")" "$(m "${max_of[floor]}")" \
  "$(ratio "$(m "${max_of[ours]}")" "$(m "${max_of[chronyd]}")")" \
  "$(ratio "$(m "${max_of[floor]}")" "$(m "${max_of[chronyd]}")")" \
  "$(ratio "$(m "${max_of[ours]}")" "$(m "${max_of[floor]}")")"
printf 'SUMMARY at %s/s, median p99: chronyd %s us (loss %s%%), ours %s us (loss %s%%), floor %s us (loss %s%%); ours/chronyd %s (target <= 1)\n' \
  "$half" "$(m "${p99_of[chronyd]}")" "$(m "${loss_of[chronyd]}")" \
  "$(m "${p99_of[ours]}")" "$(m "${loss_of[ours]}")" \
  "$(m "${p99_of[floor]}")" "$(m "${loss_of[floor]}")" \
  "$(ratio "$(m "${p99_of[ours]}")" "$(m "${p99_of[chronyd]}")")"
printf 'SUMMARY at %s/s, median server CPU: chronyd %s%%, ours %s%% (all threads), floor %s%%\n' \
  "$half" "$(m "${cpu_of[chronyd]}")" "$(m "${cpu_of[ours]}")" "$(m "${cpu_of[floor]}")"
