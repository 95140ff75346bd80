#!/bin/sh
# Container entrypoint for web, worker and beat (same image, different commands).
#
#   MIGRATE_ON_START=1         apply migrations, then start (set on the web service only, so
#                              exactly one container migrates).
#   WAIT_FOR_MIGRATIONS=1      block until every migration is applied, then start (worker and
#                              beat: they never migrate, they wait for web to have done it).
#   MIGRATION_WAIT_SECONDS     how long to wait before giving up (default 300); the restart
#                              policy then starts the container again.
set -eu

if [ "${MIGRATE_ON_START:-0}" = "1" ]; then
    echo "entrypoint: applying migrations"
    python manage.py migrate --noinput
elif [ "${WAIT_FOR_MIGRATIONS:-0}" = "1" ]; then
    deadline=$(( $(date +%s) + ${MIGRATION_WAIT_SECONDS:-300} ))
    until python manage.py migrate --check >/dev/null 2>&1; do
        if [ "$(date +%s)" -ge "$deadline" ]; then
            echo "entrypoint: migrations still not applied after ${MIGRATION_WAIT_SECONDS:-300}s" >&2
            exit 1
        fi
        echo "entrypoint: waiting for migrations to be applied (by the web service)"
        sleep 3
    done
fi

exec "$@"
