#!/bin/sh
# First start: initdb as the server user with the given superuser and password, accept
# password logins from the network, create POSTGRES_DB. Then exec the server (PID 1).
set -eu
if [ "${1:-}" = "postgres" ]; then
    : "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set}"
    user="${POSTGRES_USER:-postgres}"
    db="${POSTGRES_DB:-$user}"
    mkdir -p "$PGDATA"
    chown postgres:postgres "$PGDATA"
    chmod 0700 "$PGDATA"
    run_as="setpriv --reuid=postgres --regid=postgres --init-groups"
    if [ ! -s "$PGDATA/PG_VERSION" ]; then
        pwfile=$(mktemp)
        printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
        chown postgres "$pwfile"
        $run_as initdb --username="$user" --pwfile="$pwfile" --auth-local=trust \
            --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 -D "$PGDATA" >/dev/null
        rm -f "$pwfile"
        printf 'host all all all scram-sha-256\nhost replication all all scram-sha-256\n' \
            >> "$PGDATA/pg_hba.conf"
        printf "listen_addresses = '*'\n" >> "$PGDATA/postgresql.conf"
        if [ "$db" != "postgres" ]; then
            echo "CREATE DATABASE \"$db\";" \
                | $run_as postgres --single -D "$PGDATA" -j postgres >/dev/null
        fi
        echo "drillbook-postgres: initialised $PGDATA (database $db)"
    fi
    exec $run_as "$@"
fi
exec "$@"
