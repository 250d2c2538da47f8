#!/usr/bin/env bash
# demo_postgres.sh DIR: the platform operator's PostgreSQL for the demo's database, run as root
# inside the PaaS resource's backend namespace (`privlink paas exec ... -- bash
# scripts/demo_postgres.sh DIR`): a fresh cluster in DIR (owned by the postgres user; its parent
# must be traversable by that user) with a login role 'app' (trust authentication) and a database
# 'orders'. The server runs in the foreground and logs "ready to accept connections".
set -euo pipefail
DIR=$1
BINDIR=$(dirname "$(readlink -f "$(command -v initdb || ls /usr/lib/postgresql/*/bin/initdb | tail -n1)")")
mkdir -p "$DIR"
chown postgres: "$DIR"
runuser -u postgres -- "$BINDIR/initdb" -D "$DIR/data" -U postgres -A trust --no-sync >/dev/null
echo "host all all 0.0.0.0/0 trust" >>"$DIR/data/pg_hba.conf"
printf 'CREATE ROLE app LOGIN;\nCREATE DATABASE orders OWNER app;\n' |
  runuser -u postgres -- "$BINDIR/postgres" --single -D "$DIR/data" -c fsync=off postgres >/dev/null
exec runuser -u postgres -- "$BINDIR/postgres" -D "$DIR/data" -c "listen_addresses=*" \
  -c "unix_socket_directories=$DIR" -c fsync=off -c shared_buffers=16MB
