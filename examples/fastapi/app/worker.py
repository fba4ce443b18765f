"""The background worker the shell wrapper starts next to uvicorn.

It works through jobs of APP_WORKER_JOB_SECONDS each. On SIGTERM it finishes
the job in hand, says so and exits 0. Killed without a SIGTERM (an init that
signals only its direct child, then exits), the job in hand is lost: the log
shows "job N: started" with no "done".
"""

import logging
import os
import signal
import time

logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
log = logging.getLogger("worker")
JOB_SECONDS = float(os.environ.get("APP_WORKER_JOB_SECONDS", "2"))
stopping = False


def on_term(signum, frame):
    global stopping
    stopping = True
    log.info("got signal %d: finishing the job in hand", signum)


def main() -> None:
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    log.info("started: pid %d, uid %d", os.getpid(), os.getuid())
    job = 0
    while not stopping:
        job += 1
        log.info("job %d: started", job)
        time.sleep(JOB_SECONDS)  # a signal does not cut it short (PEP 475)
        log.info("job %d: done", job)
    log.info("stopped cleanly after %d job(s)", job)


if __name__ == "__main__":
    main()
