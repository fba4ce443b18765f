#!/bin/sh
# The same app as gunicorn with uvicorn's worker class, the configuration
# Docker-and-FastAPI guides recommend: a master process supervising worker
# processes. Run it with `command: ["/app/start-gunicorn.sh"]` (Compose) or
# `docker run IMAGE /app/start-gunicorn.sh`.
#
# Signals, under pidone's default `--forward auto`:
# - docker stop (TERM): pidone signals the group; the master stops accepting
#   and waits up to --graceful-timeout for requests in flight. Give the runtime
#   at least as long (`docker stop -t 30`, Compose `stop_grace_period: 30s`,
#   Kubernetes `terminationGracePeriodSeconds`): pidone itself sets no deadline.
# - docker kill -s HUP: pidone signals the master only, which reloads: new
#   workers start, the old ones finish their requests. (A HUP to the whole group
#   would kill the workers: they reset HUP to its default action.)
# --no-control-socket: gunicorn's runtime control socket (gunicornc) would go
# under $HOME, which the app's uid cannot write here.
exec gunicorn app.main:app \
    --worker-class uvicorn.workers.UvicornWorker \
    --workers "${WEB_CONCURRENCY:-2}" \
    --bind "0.0.0.0:${PORT:-8000}" \
    --graceful-timeout 30 \
    --no-control-socket
