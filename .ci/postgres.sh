# Sourced by .ci/run: starts a throwaway PostgreSQL cluster and exports
# LETTERBOX_TEST_POSTGRES (a URL whose user may create databases).
sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq postgresql   # pulls postgresql-NN with pg_trgm (contrib is in the server package)
fi
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
pg_user=$(id -un)
[ "$(id -u)" -eq 0 ] && pg_user=postgres     # initdb/postgres refuse to run as root
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u "$pg_user" -- "$@"; else "$@"; fi; }
pgdir=$(mktemp -d /tmp/letterbox-pg.XXXXXX)
chown "$pg_user" "$pgdir"; chmod 700 "$pgdir"
pgpass=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
printf '%s\n' "$pgpass" > "$pgdir/pwfile"; chown "$pg_user" "$pgdir/pwfile"
stop_pg() {
    as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$pgdir"
}
trap stop_pg EXIT
as_pg "$pgbin/initdb" -D "$pgdir/data" -U letterbox --pwfile="$pgdir/pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 \
    --no-sync >"$pgdir/initdb.log" 2>&1 || { cat "$pgdir/initdb.log"; exit 1; }
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/server.log" -w -t 60 start -o \
    "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$pgdir \
     -c max_connections=400 -c fsync=off -c full_page_writes=off \
     -c jit=off" >/dev/null || { cat "$pgdir/server.log"; exit 1; }
export LETTERBOX_TEST_POSTGRES="postgresql://letterbox:$pgpass@127.0.0.1:$port/postgres"
PGPASSWORD=$pgpass psql -qAt "$LETTERBOX_TEST_POSTGRES" -c "SELECT 'postgres ' || current_setting('server_version') || ' on port $port'"
