#!/usr/bin/env bash
# Installs the real NTP peers the end-to-end tests drive (Debian packages) and extracts ntpsec's
# ntpd/ntpq without installing it (it conflicts with chrony). Idempotent; needs root and apt.
set -euo pipefail
pkgs=(chrony python3-ntp ntpsec-ntpdig ntpsec-ntpdate ntpstat monitoring-plugins-basic
  tshark python3-scapy iproute2 util-linux gcc libc6-dev systemd nftables openssl libssl3
  libnettle8
  gnuplot-nox fonts-liberation librsvg2-bin)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  apt-get update -qq
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # The chrony package may have started the system chronyd; the tests start their own.
  if [ -f /run/chrony/chronyd.pid ]; then kill "$(cat /run/chrony/chronyd.pid)" 2>/dev/null || true; fi
fi

root=/tmp/ntp-test-peers/ntpsec-root
if [ ! -x "$root/usr/sbin/ntpd" ]; then
  mkdir -p /tmp/ntp-test-peers/pkgs
  (cd /tmp/ntp-test-peers/pkgs && apt-get download ntpsec >/dev/null 2>&1 || {
    apt-get update -qq && apt-get download ntpsec; })
  dpkg -x /tmp/ntp-test-peers/pkgs/ntpsec_*.deb "$root"
fi
# ntpviz (NTPsec's statistics plotter, run over our statsdir by the statistics tests), extracted
# only: the package would install daily/weekly timers and a cron job that run it over /var/log.
viz=/tmp/ntp-test-peers/ntpviz-root
if [ ! -x "$viz/usr/bin/ntpviz" ]; then
  mkdir -p /tmp/ntp-test-peers/pkgs
  (cd /tmp/ntp-test-peers/pkgs && apt-get download ntpsec-ntpviz >/dev/null 2>&1 || {
    apt-get update -qq && apt-get download ntpsec-ntpviz; })
  dpkg -x /tmp/ntp-test-peers/pkgs/ntpsec-ntpviz_*.deb "$viz"
fi
# promtool (`promtool check metrics` for the metrics tests) from Debian's prometheus package,
# extracted only: installing it would add a Prometheus server service the tests do not want.
prom=/tmp/ntp-test-peers/prometheus-root
if [ ! -x "$prom/usr/bin/promtool" ]; then
  mkdir -p /tmp/ntp-test-peers/pkgs
  (cd /tmp/ntp-test-peers/pkgs && apt-get download prometheus >/dev/null 2>&1 || {
    apt-get update -qq && apt-get download prometheus; })
  dpkg -x /tmp/ntp-test-peers/pkgs/prometheus_*.deb "$prom"
fi
echo "test peers ready: $(chronyd --version | head -1); ntpsec at $root;" \
  "$("$prom/usr/bin/promtool" --version 2>&1 | head -1)"
