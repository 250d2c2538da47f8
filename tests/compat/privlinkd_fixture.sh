# Bash functions that run a real privlinkd for a test: start it on a free loopback port in a
# state directory, wait until it listens, read its admin.json, fetch an access token with the
# client-credentials grant, and stop it (gracefully or with kill -9); pl_trap installs the exit
# trap that always stops it and removes what it left. Sourced by tests/compat/run_compat.sh,
# tests/compat/az/az_compat.sh, tests/compat/python/run_python_compat.sh,
# tests/integration/crash/crash_test.sh and (through tests/testing/cli_harness.sh) the CLI tests.
#
# Contract of privlinkd relied on: `privlinkd --state-dir DIR --listen 127.0.0.1:PORT` (port 0: any
# free port); each start writes DIR/admin.json {endpoint, tenantId, subscriptionId, clientId,
# clientSecret, caCertificate} and the daemon prints "privlinkd listening on https://localhost:PORT".
#
# Globals set: PL_PID (daemon pid), PL_BASE (https://localhost:PORT), PL_PORT, PL_CA (CA file),
# PL_TENANT, PL_SUB, PL_CLIENT, PL_SECRET.
# Optional input: PL_NAME_PREFIX, a unique prefix for the kernel objects of the daemon's agent
# (`--name-prefix`, e.g. "tc$$"), so that pl_cleanup_kernel removes this test's objects and no
# other's. PL_EXTRA_ARGS, an array of further daemon arguments (e.g. `--role api,controller`).

# Prints a TCP port on 127.0.0.1 that is free right now (pl_start with port 0 avoids the race).
pl_free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();})'
}

# pl_start BIN STATE_DIR PORT LOG: starts the daemon in the background on 127.0.0.1:PORT (0: a free
# port the daemon picks) and waits (30 s at most) until it prints its listening line and admin.json
# names the same endpoint. Sets PL_PORT to the port it listens on. Returns non-zero (with the log
# tail on stderr) when it does not come up.
pl_start() {
  local bin=$1 dir=$2 port=$3 log=$4
  mkdir -p "$dir"
  : >"$log"
  local extra=()
  if [ -n "${PL_NAME_PREFIX:-}" ]; then
    if "$bin" --help 2>/dev/null | grep -q -- --name-prefix; then
      extra=(--name-prefix "$PL_NAME_PREFIX")
    else
      echo "pl_start: $bin has no --name-prefix; its agent uses the default prefix" >&2
      PL_NAME_PREFIX=""
    fi
  fi
  PL_BIN=$bin
  "$bin" --state-dir "$dir" --listen "127.0.0.1:$port" "${extra[@]}" \
    ${PL_EXTRA_ARGS[@]+"${PL_EXTRA_ARGS[@]}"} >>"$log" 2>&1 &
  PL_PID=$!
  local i base
  # Polled every 20 ms: bench/network_bench.sh times start-up + convergence through this.
  for ((i = 0; i < 1500; i++)); do
    if ! kill -0 "$PL_PID" 2>/dev/null; then
      echo "privlinkd exited during start-up; log:" >&2
      tail -n 40 "$log" >&2
      wait "$PL_PID" 2>/dev/null || true
      PL_PID=""
      return 1
    fi
    base=$(sed -n 's|.*privlinkd listening on \(https://[^ ]*\).*|\1|p' "$log" | tail -n 1)
    if [ -n "$base" ] && [ -s "$dir/admin.json" ] &&
      [ "$(jq -r '.endpoint' "$dir/admin.json" 2>/dev/null | sed 's|/*$||')" = "${base%/}" ]; then
      pl_read_admin "$dir"
      PL_PORT=${PL_BASE##*:}
      return 0
    fi
    sleep 0.02
  done
  echo "privlinkd did not print its listening line within 30 s; log:" >&2
  tail -n 40 "$log" >&2
  return 1
}

# pl_read_admin STATE_DIR: loads admin.json into the PL_* globals and writes the CA certificate to
# STATE_DIR/../ca.pem when admin.json carries it inline (PEM), or points PL_CA at the file it names.
pl_read_admin() {
  local dir=$1 admin=$1/admin.json
  PL_BASE=$(jq -r '.endpoint' "$admin")
  PL_BASE=${PL_BASE%/}
  PL_TENANT=$(jq -r '.tenantId' "$admin")
  PL_SUB=$(jq -r '.subscriptionId' "$admin")
  PL_CLIENT=$(jq -r '.clientId' "$admin")
  PL_SECRET=$(jq -r '.clientSecret' "$admin")
  local ca
  ca=$(jq -r '.caCertificate' "$admin")
  if [[ $ca == -----BEGIN* ]]; then
    PL_CA=$(dirname "$dir")/ca.pem
    printf '%s\n' "$ca" >"$PL_CA"
  elif [[ $ca == /* ]]; then
    PL_CA=$ca
  else
    PL_CA=$dir/$ca
  fi
}

# pl_token: prints an access token for the admin service principal, obtained with the
# client-credentials grant from the token endpoint that the tenant's OpenID configuration names.
pl_token() {
  local token_endpoint
  token_endpoint=$(curl -sS --fail --cacert "$PL_CA" \
    "$PL_BASE/$PL_TENANT/v2.0/.well-known/openid-configuration" | jq -r '.token_endpoint') || return 1
  curl -sS --fail --cacert "$PL_CA" -X POST "$token_endpoint" \
    --data-urlencode grant_type=client_credentials \
    --data-urlencode "client_id=$PL_CLIENT" \
    --data-urlencode "client_secret=$PL_SECRET" \
    --data-urlencode "scope=$PL_BASE/.default" | jq -er '.access_token'
}

# pl_stop: SIGTERM, then SIGKILL after 10 s. Safe to call when nothing runs.
pl_stop() {
  [ -n "${PL_PID:-}" ] || return 0
  if kill -0 "$PL_PID" 2>/dev/null; then
    kill -TERM "$PL_PID" 2>/dev/null || true
    local i
    for ((i = 0; i < 100; i++)); do
      kill -0 "$PL_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "$PL_PID" 2>/dev/null && kill -KILL "$PL_PID" 2>/dev/null
  fi
  wait "$PL_PID" 2>/dev/null || true
  PL_PID=""
}

# pl_kill9: kills the daemon without warning, as a crash would.
pl_kill9() {
  [ -n "${PL_PID:-}" ] || return 0
  kill -KILL "$PL_PID" 2>/dev/null || true
  wait "$PL_PID" 2>/dev/null || true
  PL_PID=""
}

# pl_cleanup_kernel: after the daemon stopped, removes every kernel object (namespaces and what is
# in them) under PL_NAME_PREFIX with `privlinkd --cleanup`. Does nothing without PL_NAME_PREFIX, so
# it never touches the objects of another daemon.
pl_cleanup_kernel() {
  [ -n "${PL_NAME_PREFIX:-}" ] && [ -n "${PL_BIN:-}" ] || return 0
  "$PL_BIN" --cleanup --name-prefix "$PL_NAME_PREFIX" >/dev/null 2>&1 || true
}

# pl_workdir TAG [LINES]: makes the test's scratch directory WORK (/tmp/privlink-TAG.XXXXXX) with
# the daemon's state directory STATE and its LOG in it, and installs the exit trap (pl_trap WORK LOG
# LINES).
pl_workdir() {
  WORK=$(mktemp -d "/tmp/privlink-$1.XXXXXX")
  STATE=$WORK/state
  LOG=$WORK/privlinkd.log
  pl_trap "$WORK" "$LOG" "${2:-60}"
}

# pl_trap WORK LOG [LINES]: installs the test's exit trap (INT and TERM exit 130): it calls
# pl_on_exit when the script defines it (e.g. to delete what the test made while the daemon still
# runs, or to stop the test's own processes), stops the daemon, removes its kernel objects
# (pl_cleanup_kernel), prints the last LINES (60) lines of LOG when the script fails, removes the
# directory WORK and exits with the script's status.
pl_trap() {
  PL_TRAP_WORK=$1
  PL_TRAP_LOG=$2
  PL_TRAP_LINES=${3:-60}
  trap pl_exit_cleanup EXIT
  trap 'exit 130' INT TERM
}

# pl_exit_cleanup: the EXIT trap pl_trap installs.
pl_exit_cleanup() {
  local rc=$?
  if declare -F pl_on_exit >/dev/null; then pl_on_exit || true; fi
  pl_stop
  pl_cleanup_kernel
  if [ "$rc" -ne 0 ] && [ -f "$PL_TRAP_LOG" ]; then
    echo "--- privlinkd log (last $PL_TRAP_LINES lines) ---"
    tail -n "$PL_TRAP_LINES" "$PL_TRAP_LOG"
  fi
  rm -rf "$PL_TRAP_WORK"
  exit "$rc"
}
