#!/bin/sh
# The shell wrapper many images use: a background worker beside the web
# server. Under pidone both get SIGTERM on `docker stop` (pidone signals the
# whole process group) and pidone waits, up to PIDONE_GRACE, for the worker to
# finish the job in hand after uvicorn has exited.
python -m app.worker &
exec uvicorn app.main:app --host 0.0.0.0 --port "${PORT:-8000}" --timeout-graceful-shutdown 6
