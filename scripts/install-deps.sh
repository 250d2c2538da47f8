#!/usr/bin/env bash
# Installs every Debian package privlink needs to build, test and run the demo, and nothing
# that is already there. Idempotent; the one install step `make demo` and `make check` call.
set -euo pipefail

PACKAGES=(
  # build
  build-essential cmake pkg-config
  libboost-dev libssl-dev nlohmann-json3-dev libsqlite3-dev libspdlog-dev libfmt-dev libcli11-dev
  libmnl-dev libnftables-dev libnftnl-dev libnetfilter-conntrack-dev libldns-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libbpf-dev clang xxd bpftool  # eBPF fast path: clang -target bpf, embedded by xxd; bpftool: bench
  # run and test: kernel tools for test fixtures (the product itself never shells out)
  iproute2 nftables conntrack curl openssl jq dnsutils sqlite3 procps
  nodejs npm
  haproxy  # PPv2 (accept-proxy) backend in tests/integration/proxy and bench/ppv2_bench.sh
  iperf3  # TCP throughput in bench/network_bench.sh and bench/privatelink_bench.sh
  postgresql  # a real PostgreSQL run as a PaaS instance in tests/integration/paas and the demo
  # compat suites: the real Azure CLI and Python SDK from Debian (large: ~6 min to install)
  azure-cli python3-azure
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# nodejs may come from another repository that ships npm inside it.
if command -v npm >/dev/null 2>&1; then
  missing=("${missing[@]/npm}")
fi
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sed '/^$/d')
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all Debian packages present"
fi

# npm packages of the compat suite (pinned in tests/compat/package-lock.json); npm ci only when stale.
bash "$(dirname "$0")/../tests/compat/ensure_node_modules.sh"
