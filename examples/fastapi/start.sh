#!/bin/sh
# The shell wrapper many images use: a background worker beside the web
# server. Under pidone both get SIGTERM on `docker stop` (pidone sends stop
# signals to the whole process group) and pidone waits for the worker to
# finish the job in hand after uvicorn has exited (until the runtime's stop
# timeout, or PIDONE_GRACE when set). gunicorn instead: start-gunicorn.sh.
python -m app.worker &
exec uvicorn app.main:app --host 0.0.0.0 --port "${PORT:-8000}" --timeout-graceful-shutdown 6
