#!/usr/bin/env bash
# server_test.sh PRIVLINKD: the HTTPS server, bootstrap, token issuer and token verification of
# the real daemon. Starts privlinkd on 127.0.0.1 port 0 in a temporary state directory and checks
# TLS (CA trust, plain HTTP refused), cloud metadata, the client-credentials grant, an ARM call
# with and without a token, the body limit, keep-alive, the state-directory lock, SIGTERM, and
# that a restart after kill -9 keeps the CA, tenant, subscription and admin. Traffic goes only to
# 127.0.0.1. Always stops the daemons it started (trap). Prints "N passed, M failed".
set -uo pipefail
PRIVLINKD=$(realpath "$1")
for tool in curl openssl jq; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is required"; exit 1; }
done

WORK=$(mktemp -d /tmp/privlink-server-test.XXXXXX)
STATE=$WORK/state
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

passed=0
failed=0
check() {  # check NAME COMMAND...: passes when COMMAND succeeds
  local name=$1
  shift
  if "$@"; then
    passed=$((passed + 1)); echo "PASS $name"
  else
    failed=$((failed + 1)); echo "FAIL $name"
  fi
}

# start LOG: runs privlinkd on port 0; sets PID and PORT from its listening line (15 s at most).
start() {
  local log=$1 i
  "$PRIVLINKD" --state-dir "$STATE" --listen 127.0.0.1:0 --role api --log-level debug \
    >"$log" 2>"$log.err" &
  PID=$!
  PIDS+=("$PID")
  PORT=""
  for ((i = 0; i < 150; i++)); do
    if ! kill -0 "$PID" 2>/dev/null; then
      echo "privlinkd exited during start-up:"; cat "$log" "$log.err"; return 1
    fi
    PORT=$(sed -n 's|^privlinkd listening on https://localhost:\([0-9]*\) (state .*)$|\1|p' "$log")
    [ -n "$PORT" ] && break
    sleep 0.1
  done
  [ -n "$PORT" ] || { echo "no listening line:"; cat "$log" "$log.err"; return 1; }
  BASE=https://localhost:$PORT
  CA=$STATE/ca.crt
}

admin() { jq -r ".$1" "$STATE/admin.json"; }

token() {
  curl -sS --fail --cacert "$CA" -X POST "$BASE/adfs/oauth2/token" \
    --data-urlencode grant_type=client_credentials \
    --data-urlencode "client_id=$(admin clientId)" \
    --data-urlencode "client_secret=$(admin clientSecret)" \
    --data-urlencode "scope=$BASE//.default" | jq -er .access_token
}

status_of() {  # status_of CURL-ARGS...: prints the HTTP status
  curl -s -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' --cacert "$CA" "$@"
}

start "$WORK/log1" || exit 1
check "listening line names the state directory" grep -q "(state $STATE)" "$WORK/log1"
check "admin.json endpoint is the bound port" [ "$(admin endpoint)" = "$BASE" ]
check "admin.json is mode 0600" [ "$(stat -c %a "$STATE/admin.json")" = 600 ]
check "keys are mode 0600" [ "$(stat -c %a "$STATE/ca.key" "$STATE/server.key" \
  "$STATE/token-signing.key" | sort -u)" = 600 ]
check "pid file holds the daemon's pid" [ "$(cat "$STATE/privlinkd.pid")" = "$PID" ]
check "CA is CA:TRUE" bash -c "openssl x509 -in '$CA' -noout -text | grep -q 'CA:TRUE'"
check "server certificate verifies against the CA" \
  openssl verify -CAfile "$CA" -purpose sslserver "$STATE/server.crt"

code=$(status_of "$BASE/metadata/endpoints?api-version=2015-01-01")
check "metadata/endpoints over TLS (200)" [ "$code" = 200 ]
check "metadata loginEndpoint is BASE/adfs" \
  [ "$(jq -r .authentication.loginEndpoint "$WORK/body")" = "$BASE/adfs" ]
code=$(status_of "$BASE//metadata/endpoints?api-version=2019-05-01")
check "//metadata/endpoints list form" [ "$code" = 200 ] && \
  check "list form resourceManager" [ "$(jq -r '.[0].resourceManager' "$WORK/body")" = "$BASE/" ]
code=$(status_of "https://127.0.0.1:$PORT/adfs/.well-known/openid-configuration")
check "certificate also valid for 127.0.0.1" [ "$code" = 200 ]
check "openid configuration issuer" [ "$(jq -r .issuer "$WORK/body")" = "$BASE/adfs" ]
code=$(status_of --tlsv1.2 --tls-max 1.2 "$BASE/metadata/endpoints")
check "TLS 1.2 accepted" [ "$code" = 200 ]
check "TLS 1.1 refused" bash -c "! echo | openssl s_client -connect 127.0.0.1:$PORT -tls1_1 \
  -CAfile '$CA' >/dev/null 2>&1"

out=$(curl -s --max-time 5 "http://localhost:$PORT/metadata/endpoints" -w ' %{http_code}' || true)
check "plain HTTP is refused and told to use https" \
  bash -c "[[ '$out' == *'HTTPS only'* && '$out' != *' 200' ]]"

code=$(status_of "$BASE/subscriptions?api-version=2020-01-01")
check "no token -> 401" [ "$code" = 401 ]
check "401 carries WWW-Authenticate Bearer" \
  grep -qi "^www-authenticate: Bearer authorization_uri=\"$BASE/adfs\", error=\"invalid_token\"" \
  "$WORK/headers"
check "401 body is an ARM error" [ "$(jq -r .error.code "$WORK/body")" = AuthenticationFailed ]
code=$(status_of -H "Authorization: Bearer not.a.token" "$BASE/subscriptions?api-version=2020-01-01")
check "garbage token -> 401 InvalidAuthenticationToken" \
  [ "$code:$(jq -r .error.code "$WORK/body")" = "401:InvalidAuthenticationToken" ]

code=$(status_of -X POST "$BASE/adfs/oauth2/token" --data grant_type=client_credentials \
  --data-urlencode "client_id=$(admin clientId)" --data client_secret=wrong)
check "wrong secret -> 401 invalid_client" [ "$code:$(jq -r .error "$WORK/body")" = 401:invalid_client ]

TOKEN=$(token)
check "client_credentials token issued" [ -n "$TOKEN" ]
code=$(status_of -H "Authorization: Bearer $TOKEN" "$BASE/subscriptions?api-version=2020-01-01")
check "GET /subscriptions with token -> 200" [ "$code" = 200 ]
check "subscription listed with its tenant" [ "$(jq -r --arg s "$(admin subscriptionId)" \
  '.value[] | select(.subscriptionId == $s) | .tenantId' "$WORK/body")" = "$(admin tenantId)" ]

v2_endpoint=$(curl -s --cacert "$CA" "$BASE/$(admin tenantId)/v2.0/.well-known/openid-configuration" \
  | jq -r .token_endpoint)
code=$(status_of -X POST "$v2_endpoint" -u "$(admin clientId):$(admin clientSecret)" \
  --data grant_type=client_credentials --data-urlencode "scope=$BASE/.default")
check "AAD v2 token endpoint with HTTP Basic" [ "$code" = 200 ]

head -c $((4 * 1024 * 1024 + 10)) /dev/zero | tr '\0' 'a' >"$WORK/big"
code=$(status_of -X PUT -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  --data-binary @"$WORK/big" "$BASE/subscriptions/$(admin subscriptionId)/resourcegroups/big?api-version=2021-04-01")
check "body over 4 MiB -> 413" [ "$code" = 413 ]

reused=$(curl -sv --cacert "$CA" -o /dev/null -o /dev/null "$BASE/metadata/endpoints" \
  "$BASE/metadata/endpoints" 2>&1 | grep -c -i "re-using existing connection" || true)
check "keep-alive reuses the connection" [ "$reused" -ge 1 ]

"$PRIVLINKD" --state-dir "$STATE" --listen 127.0.0.1:0 --role api >"$WORK/second" 2>&1 &
second=$!
PIDS+=("$second")
wait "$second"
rc=$?
check "a second daemon on the same state directory is refused" \
  bash -c "[ $rc -ne 0 ] && grep -q 'uses $STATE' '$WORK/second'"

CA_SHA=$(openssl x509 -in "$CA" -noout -fingerprint -sha256)
TENANT=$(admin tenantId); SUB=$(admin subscriptionId); CLIENT=$(admin clientId)
SECRET=$(admin clientSecret)
kill -KILL "$PID"; wait "$PID" 2>/dev/null
start "$WORK/log2" || exit 1
check "restart after kill -9 keeps the CA" \
  [ "$(openssl x509 -in "$CA" -noout -fingerprint -sha256)" = "$CA_SHA" ]
check "restart keeps tenant, subscription and admin" \
  [ "$(admin tenantId) $(admin subscriptionId) $(admin clientId) $(admin clientSecret)" = \
    "$TENANT $SUB $CLIENT $SECRET" ]
check "restart rewrites the endpoint" [ "$(admin endpoint)" = "$BASE" ]
TOKEN=$(token)
code=$(status_of -H "Authorization: Bearer $TOKEN" "$BASE/subscriptions?api-version=2019-11-01")
check "restarted daemon lists the same subscription" \
  bash -c "[ '$code' = 200 ] && jq -e --arg s '$SUB' '.value[] | select(.subscriptionId == \$s)' \
    '$WORK/body' >/dev/null"

kill -TERM "$PID"
for ((i = 0; i < 100; i++)); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
wait "$PID"
rc=$?
check "SIGTERM stops gracefully (exit 0)" [ "$rc" = 0 ]
check "graceful stop removes the pid file" [ ! -e "$STATE/privlinkd.pid" ]

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
