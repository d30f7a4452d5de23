#!/bin/sh
# Container entrypoint: migrate, then hand the process over to gunicorn (PID 1 gets the signals).
# With arguments it runs them instead (e.g. `python -m collectors`).
set -eu
if [ "$#" -gt 0 ]; then
  exec "$@"
fi
python -m dashapp db upgrade
exec gunicorn wsgi:server \
  --bind "${SMD_HOST:-127.0.0.1}:${SMD_PORT:-8050}" \
  --worker-class gthread \
  --workers "${WEB_CONCURRENCY:-2}" \
  --threads "${GUNICORN_THREADS:-8}" \
  --timeout 60 \
  --graceful-timeout 10 \
  --access-logfile - \
  --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-127.0.0.1}"
