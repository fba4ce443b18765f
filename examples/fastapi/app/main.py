"""A small FastAPI service, run the way pidone is meant to run it.

/health  liveness: the process answers; no dependency is checked.
/ready   readiness: the dependency (Redis) answers PING.
/work    a slow request (?seconds=N): the in-flight work a stop must not lose.
/jobs    queues background jobs (POST ?n=N); the shutdown drains the queue.

On SIGTERM uvicorn stops accepting, waits for requests in flight, then runs the
lifespan shutdown below, which drains the job queue and logs what it finished.

Secrets come from the environment: pidone reads /run/secrets (as root) before
dropping to the app's uid, so the app never needs to read the files itself.
With APP_DEBUG=1 two test hooks exist: POST /debug/health/fail makes /health
fail, GET /debug/whoami tells the ids the app runs as and a digest of API_TOKEN.
"""

import asyncio
import hashlib
import logging
import os
import time
from contextlib import asynccontextmanager

from fastapi import FastAPI, Response

logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
log = logging.getLogger("app")

REDIS_HOST = os.environ.get("REDIS_HOST", "redis")
REDIS_PORT = int(os.environ.get("REDIS_PORT", "6379"))
JOB_SECONDS = float(os.environ.get("APP_JOB_SECONDS", "0.5"))
DRAIN_TIMEOUT = float(os.environ.get("APP_DRAIN_TIMEOUT", "5"))
STARTUP_DELAY = float(os.environ.get("APP_STARTUP_DELAY", "0"))
DEBUG = os.environ.get("APP_DEBUG") == "1"

state = {"healthy": True, "jobs_done": 0, "requests": 0}
queue: asyncio.Queue = asyncio.Queue()


async def run_jobs() -> None:
    while True:
        job = await queue.get()
        try:
            await asyncio.sleep(JOB_SECONDS)
            state["jobs_done"] += 1
            log.info("job %s done", job)
        finally:
            queue.task_done()


@asynccontextmanager
async def lifespan(app: FastAPI):
    if STARTUP_DELAY:
        log.info("startup: warming up for %.1fs", STARTUP_DELAY)
        await asyncio.sleep(STARTUP_DELAY)
    runner = asyncio.create_task(run_jobs())
    log.info("startup complete: pid %d, uid %d, gid %d", os.getpid(), os.getuid(), os.getgid())
    yield
    pending = queue.qsize()
    log.info("shutdown: draining %d queued job(s)", pending)
    try:
        await asyncio.wait_for(queue.join(), DRAIN_TIMEOUT)
        log.info("shutdown: queue drained, %d job(s) done in all", state["jobs_done"])
    except asyncio.TimeoutError:
        log.warning("shutdown: %d job(s) left undone after %.1fs", queue.qsize(), DRAIN_TIMEOUT)
    runner.cancel()
    log.info("shutdown complete")


app = FastAPI(lifespan=lifespan)


@app.get("/health")
async def health(response: Response):
    if not state["healthy"]:
        response.status_code = 503
        return {"status": "failing"}
    return {"status": "ok"}


async def redis_ping() -> str:
    """PING the dependency in plain RESP; AUTH first when a password is set."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(REDIS_HOST, REDIS_PORT), 1.0)
    try:
        password = os.environ.get("REDIS_PASSWORD", "")
        if password:
            pw = password.encode()
            writer.write(b"*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n" % (len(pw), pw))
            line = await asyncio.wait_for(reader.readline(), 1.0)
            if not line.startswith(b"+OK"):
                return "redis refused AUTH"
        writer.write(b"*1\r\n$4\r\nPING\r\n")
        line = await asyncio.wait_for(reader.readline(), 1.0)
        return "" if line.startswith(b"+PONG") else "redis answered %r" % line[:40]
    finally:
        writer.close()


@app.get("/ready")
async def ready(response: Response):
    try:
        problem = await redis_ping()
    except (OSError, asyncio.TimeoutError) as e:
        problem = "redis unreachable: %s" % type(e).__name__
    if problem:
        response.status_code = 503
        return {"status": "not ready", "reason": problem}
    return {"status": "ready"}


@app.get("/work")
async def work(seconds: float = 1.0):
    state["requests"] += 1
    n = state["requests"]
    log.info("work %d: started (%.1fs)", n, seconds)
    started = time.monotonic()
    await asyncio.sleep(seconds)
    log.info("work %d: done after %.1fs", n, time.monotonic() - started)
    return {"work": n, "seconds": seconds}


@app.post("/jobs")
async def jobs(n: int = 1):
    for _ in range(n):
        queue.put_nowait(queue.qsize() + state["jobs_done"] + 1)
    return {"queued": queue.qsize()}


if DEBUG:

    @app.post("/debug/health/fail")
    async def fail_health():
        state["healthy"] = False
        log.warning("debug: /health now fails")
        return {"healthy": False}

    @app.get("/debug/whoami")
    async def whoami():
        token = os.environ.get("API_TOKEN")
        try:
            with open("/run/secrets/api_token", "rb"):
                readable = True
        except OSError:
            readable = False
        return {
            "uid": os.getuid(),
            "euid": os.geteuid(),
            "gid": os.getgid(),
            "groups": os.getgroups(),
            "api_token_sha256": hashlib.sha256(token.encode()).hexdigest() if token else None,
            "secret_file_readable_by_app": readable,
        }
