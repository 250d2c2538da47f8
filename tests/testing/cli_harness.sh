# Bash functions for the shell tests that drive the privlink CLI (or plain HTTPS) against a real
# privlinkd: run a CLI step, record named checks and print "N passed, M failed". Also sources
# tests/compat/privlinkd_fixture.sh (pl_start, pl_stop, pl_trap, ...). Sourced by
# tests/integration/cli/*.sh and tests/integration/crash/crash_test.sh.
#
# Globals the script sets before calling pl: PRIVLINK (the CLI binary), WORK (its scratch
# directory; cli_workdir makes it) and optionally STEP_TIMEOUT (seconds one CLI call may take; 120).
# Globals set here: passed, failed (check counts); OUT, ERR, CODE (the last pl call's stdout,
# stderr and exit code).

# shellcheck source=../compat/privlinkd_fixture.sh
source "$(dirname "${BASH_SOURCE[0]}")/../compat/privlinkd_fixture.sh"

passed=0
failed=0
OUT=""
ERR=""
CODE=0

# cli_workdir TAG: makes the test's scratch directory WORK (/tmp/privlink-TAG.XXXXXX) with the
# daemon's state directory STATE and its LOG in it, points the CLI's configuration there
# (PRIVLINK_CONFIG_DIR) and installs the exit trap (pl_trap: it calls pl_on_exit when the script
# defines it, stops the daemon, removes its kernel objects and WORK).
cli_workdir() {
  pl_workdir "$1"
  export PRIVLINK_CONFIG_DIR=$WORK/config
}

# pl ARGS...: runs the CLI with a time bound; sets OUT, ERR and CODE (also under set -e).
pl() {
  CODE=0
  OUT=$(timeout "${STEP_TIMEOUT:-120}" "$PRIVLINK" "$@" 2>"$WORK/err") || CODE=$?
  ERR=$(cat "$WORK/err")
}

# check_detail NAME DETAIL CONDITION...: counts and prints "PASS NAME" when the condition command
# succeeds, else "FAIL NAME: DETAIL". Always returns 0 (safe under set -e).
check_detail() {
  local name=$1 detail=$2
  shift 2
  if "$@"; then
    passed=$((passed + 1)); echo "PASS $name"
  else
    failed=$((failed + 1)); echo "FAIL $name${detail:+: $detail}"
  fi
}

# check NAME CONDITION...: check_detail for a CLI step; a failure also shows the last pl call's
# exit code, stderr and stdout.
check() {
  local name=$1 before=$failed
  shift
  check_detail "$name" "exit $CODE" "$@"
  if [ "$failed" -ne "$before" ]; then
    [ -n "$ERR" ] && echo "  stderr: ${ERR:0:2000}"
    [ -n "$OUT" ] && echo "  stdout: ${OUT:0:2000}"
  fi
  return 0
}

# must NAME: check NAME ok, and ends the test (exit 1) when the last pl call failed.
must() {
  check "$1" ok
  [ "$CODE" -eq 0 ] || exit 1
}

# Conditions on the last pl call.
ok() { [ "$CODE" -eq 0 ]; }
json_is() { [ "$(jq -r "$1" <<<"$OUT")" = "$2" ]; }  # json_is FILTER VALUE: jq -r FILTER on OUT
out_has() { grep -q -- "$1" <<<"$OUT"; }
# arm_error CODE TEXT: the command failed (exit 1) with "CODE: ..." on stderr mentioning TEXT.
arm_error() { [ "$CODE" -eq 1 ] && grep -q -- "$1: " <<<"$ERR" && grep -q -- "$2" <<<"$ERR"; }

# check_summary: prints "N passed, M failed"; returns non-zero when a check failed.
check_summary() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
