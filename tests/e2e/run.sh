#!/usr/bin/env bash
# End-to-end checks of pidone in real Docker containers (`make e2e`).
#
# Builds everything locally, with no network inside any build: a Debian base
# made by debootstrap (tests/e2e/base.sh, with nginx, PostgreSQL and Redis),
# Python wheels fetched on the host with pip into a cache outside git, the
# FastAPI example from Dockerfile.example and its Redis. Then checks the
# contract in containers, against real servers (uvicorn, gunicorn, nginx,
# PostgreSQL, Redis). Every wait is bounded. Prints one `N passed, N failed`
# line at the end and exits non-zero when any check failed.
#
# Environment: PIDONE_IMAGE (default ghcr.io/pidone/pidone:latest, `make image`),
# PIDONE_E2E_CACHE (default ~/.cache/pidone-e2e), E2E_ONLY (a regex of check
# groups to run: static exit stop grace gunicorn reload exec delay sigcont
# nginx postgres jvm health secrets orphans compose user).
# The checks run small scripts as `bash -c '…' _ ARGS`: the single quotes keep
# `$1` and friends for the inner shell on purpose.
# shellcheck disable=SC2016
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PIDONE_IMAGE=${PIDONE_IMAGE:-ghcr.io/pidone/pidone:latest}
CACHE=${PIDONE_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pidone-e2e}
ONLY=${E2E_ONLY:-.}
RUN_ID=pidone-e2e-$$
LABEL=pidone-e2e=$RUN_ID
APP_UID=10001
T0=$(date +%s.%N)
export DOCKER_BUILDKIT=0 # the classic builder: no buildx here, and --network=none works

PASSED=0
FAILED=0
SKIPPED=0
FAILURES=()
WORK=$(mktemp -d /tmp/pidone-e2e.XXXXXX)

say() { printf '%s\n' "$*"; }
info() { printf '  INFO: %s\n' "$*"; }
pass() { PASSED=$((PASSED + 1)); printf 'PASS: %s\n' "$1"; }
fail() {
    FAILED=$((FAILED + 1)); FAILURES+=("$1")
    printf 'FAIL: %s\n' "$1"
    [ -n "${2:-}" ] && printf '      %s\n' "$2"
    return 0
}
skip() { SKIPPED=$((SKIPPED + 1)); printf 'SKIP: %s: %s\n' "$1" "$2"; }
# check NAME CMD...: pass when CMD succeeds.
check() { local name=$1; shift; if "$@"; then pass "$name"; else fail "$name"; fi; }
want() { [[ $1 =~ $ONLY ]]; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }

cleanup() {
    local ids
    ids=$(docker ps -aq --filter "label=$LABEL" 2>/dev/null)
    # shellcheck disable=SC2086 # one container id a word
    [ -n "$ids" ] && docker rm -f $ids >/dev/null 2>&1
    [ -n "${COMPOSE_UP:-}" ] && compose down -v -t 1 >/dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_until SECONDS CMD...: retry CMD every 0.25 s until it succeeds or the
# time is up (returns 1 then).
wait_until() {
    local limit=$1; shift
    local end; end=$(awk -v t="$(now)" -v l="$limit" 'BEGIN { printf "%.3f", t + l }')
    while :; do
        "$@" && return 0
        lt "$(now)" "$end" || return 1
        sleep 0.25
    done
}

# Containers of this run carry $LABEL, so the trap removes them whatever happens.
run() { docker run -d --label "$LABEL" --network none "$@"; }

# client C SCRIPT ARG...: a Python client in a container of its own that shares
# C's network namespace but not its PID namespace, as a client on another host
# would: nothing of C's shutdown signals it. Prints the client's container id.
client() {
    local c=$1; shift
    docker run -d --label "$LABEL" --network "container:$c" -u "$APP_UID:$APP_UID" --entrypoint python3 "$APP" -c "$@"
}
# client_result ID: the client's output once it has exited (at most 60 s).
client_result() { timeout 60 docker wait "$1" >/dev/null 2>&1; docker logs "$1" 2>&1; }
# A GET that prints "STATUS BYTES SECONDS" (status 0 and the error's name when
# the request failed): ARGS URL TIMEOUT.
GET_PY='
import sys, time, urllib.request
t = time.monotonic()
try:
    with urllib.request.urlopen(sys.argv[1], timeout=float(sys.argv[2])) as r:
        n = len(r.read())
        print(r.status, n, "%.2f" % (time.monotonic() - t))
except Exception as e:
    print(0, type(e).__name__, "%.2f" % (time.monotonic() - t))
'
# A poller: GET URL every 0.2 s for SECONDS, one "EPOCH STATUS" line each;
# it gives up after 5 failures in a row that follow an answered request.
POLL_PY='
import sys, time, urllib.request
end = time.time() + float(sys.argv[2])
served, failed = False, 0
while time.time() < end and not (served and failed >= 5):
    t = time.time()
    try:
        with urllib.request.urlopen(sys.argv[1], timeout=1) as r:
            status = r.status
    except Exception:
        status = 0
    served, failed = served or status == 200, 0 if status == 200 else failed + 1
    print("%.3f %d" % (t, status), flush=True)
    time.sleep(0.2)
'
port_open() {
    docker exec "$1" python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$2" 2>/dev/null
}
# stop_timed C [DOCKER-STOP-ARGS]: docker stop C; sets SECS and RC.
stop_timed() {
    local c=$1 t; shift
    t=$(now); timeout 90 docker stop "$@" "$c" >/dev/null; SECS=$(secs "$t" "$(now)")
    RC=$(exit_code "$c")
}
# Host pids of C's processes whose command line matches REGEX, one a line.
pids_of() { docker top "$1" -o pid,args 2>/dev/null | tail -n +2 | awk -v re="$2" '$0 ~ re {print $1}' | sort -n | tr '\n' ' '; }

# http CONTAINER METHOD PATH: an HTTP request from inside the container (its
# loopback, no host networking), as the app's uid. Prints "STATUS BODY".
http() {
    docker exec -u "$APP_UID:$APP_UID" "$1" python3 -c '
import sys, urllib.request, urllib.error
req = urllib.request.Request("http://127.0.0.1:8000" + sys.argv[2], method=sys.argv[1])
try:
    with urllib.request.urlopen(req, timeout=5) as r:
        print(r.status, r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode())
except Exception as e:
    print(0, type(e).__name__)
' "$2" "$3" 2>/dev/null
}
healthy_http() { [[ $(http "$1" GET /health) == 200* ]]; }
logs_have() { docker logs "$1" 2>&1 | grep -qF -- "$2"; }
health_status() { docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$1" 2>/dev/null; }
health_is() { [ "$(health_status "$1")" = "$2" ]; }
exit_code() { docker inspect -f '{{.State.ExitCode}}' "$1"; }
# A container's processes as "UID PID STAT COMMAND" lines (host ps, via docker top).
top_of() { docker top "$1" -o uid,pid,stat,comm 2>/dev/null | tail -n +2; }

compose_cmd() {
    if docker compose version >/dev/null 2>&1; then echo "docker compose"; else echo "docker-compose"; fi
}
# compose ARGS: bounded by $COMPOSE_TIMEOUT seconds (default 120).
# shellcheck disable=SC2086 # "docker compose" is two words
compose() { timeout "${COMPOSE_TIMEOUT:-120}" $COMPOSE -f "$ROOT/examples/fastapi/docker-compose.yml" -p "$RUN_ID" "$@"; }

# ---------------------------------------------------------------- images ----
say "== building images (locally, no network inside builds)"
docker image inspect "$PIDONE_IMAGE" >/dev/null 2>&1 || { say "$PIDONE_IMAGE is missing: run make image"; exit 2; }

BASE=$("$ROOT/tests/e2e/base.sh") || { say "base image build failed"; exit 2; }
say "base image: $BASE"

# Wheels: downloaded on the host once (PyPI), kept outside git.
REQ=$ROOT/examples/fastapi/requirements.txt
WHEELS=$CACHE/wheels-$(sha256sum "$REQ" | cut -c1-12)
if [ ! -f "$WHEELS/.complete" ]; then
    say "downloading wheels for $(grep -c '==' "$REQ") pinned packages into $WHEELS"
    mkdir -p "$WHEELS"
    timeout 600 python3 -m pip download -q --disable-pip-version-check --no-deps \
        --only-binary=:all: --implementation cp --python-version 3.11 --abi cp311 \
        --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 --platform any \
        -d "$WHEELS" -r "$REQ" || { say "pip download failed"; exit 2; }
    touch "$WHEELS/.complete"
fi

# The build context: the example plus the wheels, times preserved so that
# Docker's layer cache holds across runs.
CTX=$CACHE/context
mkdir -p "$CTX"
rm -rf "$CTX/app" "$CTX/wheels"
cp -a "$ROOT/examples/fastapi/." "$CTX/"
cp -a "$WHEELS" "$CTX/wheels" && rm -f "$CTX/wheels/.complete"

# Tagged after the pidone image they hold, so runs against different builds
# (pidone:latest, a branch's image) do not overwrite each other's images.
TAG=$(printf '%s' "$PIDONE_IMAGE" | tr -c 'A-Za-z0-9_.-' '-')
APP=pidone-e2e/fastapi:$TAG
REDIS=pidone-e2e/redis:$TAG
tb=$(now)
timeout 1800 docker build -q --network=none -f "$ROOT/Dockerfile.example" \
    --build-arg PYTHON_IMAGE="$BASE" --build-arg PIDONE_IMAGE="$PIDONE_IMAGE" \
    --build-arg PIP_NO_INDEX=1 --build-arg PIP_FIND_LINKS=/build \
    -t "$APP" "$CTX" >"$WORK/build-app.log" 2>&1 || { cat "$WORK/build-app.log"; say "app image build failed"; exit 2; }
timeout 900 docker build -q --network=none \
    --build-arg BASE_IMAGE="$BASE" --build-arg PIDONE_IMAGE="$PIDONE_IMAGE" \
    -t "$REDIS" "$ROOT/examples/fastapi/redis" >"$WORK/build-redis.log" 2>&1 || { cat "$WORK/build-redis.log"; say "redis image build failed"; exit 2; }
say "app and redis images built in $(secs "$tb" "$(now)") s"

# Features of the binary under test. A part of the contract whose code has
# not landed yet answers "... is not built yet"; its checks are then skipped
# with that reason (and run, and must pass, as soon as the binary has it).
pidone_says() { docker run --rm --label "$LABEL" --network none "$PIDONE_IMAGE" /pidone "$@" 2>&1; }
HAS_PROBE=1; HAS_SECRETS=1
[[ $(pidone_says probe tcp://127.0.0.1:9) == *"not built yet"* ]] && HAS_PROBE=
[[ $(pidone_says env --check) == *"not built yet"* ]] && HAS_SECRETS=
[ -n "$HAS_PROBE" ] || say "note: this pidone has no probe yet: HEALTHCHECK checks are skipped"
[ -n "$HAS_SECRETS" ] || say "note: this pidone has no secrets loader yet: secret checks are skipped"
NO_PROBE="this pidone's probe is not built yet"
NO_SECRETS="this pidone's secrets loader is not built yet"

# ---------------------------------------------------------------- static ----
if want static; then
    say "== the images and manifests"
    # The pidone image holds /pidone and its license notices, nothing else.
    layers=$(docker image inspect -f '{{len .RootFS.Layers}}' "$PIDONE_IMAGE")
    files=$(docker save "$PIDONE_IMAGE" | tar -xO --wildcards '*layer.tar' 2>/dev/null | tar -ti | sort | tr '\n' ' ')
    check "pidone image: one layer holding only /pidone and /licenses/ (layers: $layers, files: $files)" \
        [ "$layers/$files" = "1/licenses/ licenses/LICENSE licenses/THIRD-PARTY-NOTICES pidone " ]
    labels=$(docker image inspect -f '{{index .Config.Labels "org.opencontainers.image.version"}} {{index .Config.Labels "org.opencontainers.image.licenses"}}' "$PIDONE_IMAGE")
    check "pidone image: OCI labels name the version and the license ($labels)" \
        [ "$labels" = "$(make -s -C "$ROOT" version) MIT" ]
    size=$(docker image inspect -f '{{.Size}}' "$PIDONE_IMAGE")
    info "pidone image: $size bytes (the size pidone adds to an image)"
    check "docker run $PIDONE_IMAGE --version" bash -c "docker run --rm --label $LABEL $PIDONE_IMAGE /pidone --version | grep -q '^pidone '"
    layer=$(docker history --no-trunc --format '{{.Size}}\t{{.CreatedBy}}' "$APP" | grep -F ' in /init ' | head -n1 | cut -f1)
    info "layer of COPY --from=pidone /pidone /init in the app image: $layer"

    # No secret in the image's configuration: ENV names and values.
    envs=$(docker image inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$APP")
    check "no secret-looking variable in the app image's ENV" \
        bash -c '! grep -Ei "^[A-Z_]*(PASSWORD|TOKEN|SECRET|KEY)[A-Z_]*=" <<<"$1" | grep -v "^PIDONE_SECRETS_DIR="' _ "$envs"
    check "Dockerfile.example: no ARG or ENV names a secret" \
        bash -c '! grep -Ei "^(ARG|ENV)\b.*(PASSWORD|TOKEN|SECRET|API_KEY)" "$1" | grep -v PIDONE_SECRETS_DIR' _ "$ROOT/Dockerfile.example"
    check "app image: no PIDONE_GRACE in its ENV (the runtime's stop timeout sizes the drain)" \
        bash -c '! grep -q "^PIDONE_GRACE=" <<<"$1"' _ "$envs"
    check "app image: exec-form ENTRYPOINT [/init --] and HEALTHCHECK /init probe with a start period" \
        bash -c '[ "$(docker image inspect -f "{{json .Config.Entrypoint}} {{json .Config.Healthcheck.Test}} {{.Config.Healthcheck.StartPeriod}}" "$1")" = "[\"/init\",\"--\"] [\"CMD\",\"/init\",\"probe\",\"/health\"] 20s" ]' _ "$APP"

    # The Kubernetes and Compose manifests say what the guide asks.
    if ! python3 -c 'import yaml' 2>/dev/null; then
        skip "e2e: kubernetes and compose manifests" "the host's python3 has no yaml module (PyYAML)"
    else
        check "kubernetes: httpGet probes (exec ones with timeoutSeconds above the probe's), the Redis manifest, secret volume, runAsNonRoot, no privilege escalation, PIDONE_STOP_DELAY instead of a preStop hook, terminationGracePeriodSeconds above the stop delay plus a drain" \
            python3 - "$ROOT/examples/kubernetes/deployment.yaml" <<'EOF'
import re, sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
spec = d["spec"]["template"]["spec"]
c = spec["containers"][0]
env = {e["name"]: e.get("value") for e in c["env"]}
sec = spec["securityContext"]
assert sec["runAsNonRoot"] is True and isinstance(sec["runAsUser"], int) and sec["runAsUser"] > 0
assert c["securityContext"]["allowPrivilegeEscalation"] is False
# The app listens on all interfaces: the kubelet's httpGet probes.
assert c["livenessProbe"]["httpGet"]["path"] == "/health"
assert c["readinessProbe"]["httpGet"]["path"] == "/ready"
assert c["startupProbe"]["httpGet"]["path"] == "/health"
# An exec probe through /init probe needs timeoutSeconds (default 1) above the probe's --timeout (2s).
for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
    if "exec" in c[kind]:
        assert c[kind].get("timeoutSeconds", 1) > 2, kind + ": timeoutSeconds above the probe's --timeout"
# The Redis it depends on is there, under the name REDIS_HOST gives.
redis = list(yaml.safe_load_all(open(sys.argv[1].replace("deployment.yaml", "redis.yaml"))))
assert {(r["kind"], r["metadata"]["name"]) for r in redis} >= {("Deployment", env["REDIS_HOST"]), ("Service", env["REDIS_HOST"])}
mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
vols = {v["name"]: v for v in spec["volumes"]}
assert any("secret" in vols[n] and env.get("PIDONE_SECRETS_DIR") == p for n, p in mounts.items())
secs = lambda v: int(re.fullmatch(r"(\d+)s", v).group(1))
assert "lifecycle" not in c, "no preStop hook: PIDONE_STOP_DELAY holds the SIGTERM"
delay = secs(env["PIDONE_STOP_DELAY"])
assert delay > 0
# No PIDONE_GRACE needed; when one is set, the pod's grace must cover it too.
drain = secs(env["PIDONE_GRACE"]) if "PIDONE_GRACE" in env else 10
assert spec["terminationGracePeriodSeconds"] > delay + drain, "terminationGracePeriodSeconds: stop delay + drain + margin"
EOF
        check "compose: depends_on service_healthy, secrets, no PIDONE_GRACE, the app's stop_grace_period above gunicorn's --graceful-timeout" \
            python3 - "$ROOT/examples/fastapi/docker-compose.yml" "$ROOT/examples/fastapi/start-gunicorn.sh" <<'EOF'
import re, sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
s = d["services"]
assert s["app"]["depends_on"]["redis"]["condition"] == "service_healthy"
for name, svc in s.items():
    assert "PIDONE_GRACE" not in (svc.get("environment") or {}), name
    assert int(svc["stop_grace_period"].rstrip("s")) >= 10, name
    assert svc["secrets"], name
graceful = int(re.search(r"--graceful-timeout (\d+)", open(sys.argv[2]).read()).group(1))
assert int(s["app"]["stop_grace_period"].rstrip("s")) > graceful
EOF
    fi
fi

# ------------------------------------------------------------ exit codes ----
if want exit; then
    say "== exit-code passthrough"
    rc() { docker run --rm --label "$LABEL" --network none "$@" >/dev/null 2>&1; echo $?; }
    check "exit code 3 passes through" [ "$(rc "$APP" sh -c 'exit 3')" = 3 ]
    check "death by SIGUSR1 gives 138 (128+10)" [ "$(rc "$APP" sh -c 'kill -USR1 $$')" = 138 ]
    check "a missing command gives 127" [ "$(rc "$APP" /no/such/program)" = 127 ]
    check "a non-executable file gives 126" [ "$(rc "$APP" /etc/hostname)" = 126 ]
    # [needs the privilege drop] pidone refuses to run the app as root.
    check "PIDONE_USER=0 is refused with 125" [ "$(rc -e PIDONE_USER=0 "$APP" true)" = 125 ]
fi

# ------------------------------------------------------------------ stop ----
# stop_scenario LABEL DOCKER-RUN-ARGS...: the FastAPI example with a slow
# request and queued jobs in flight, then `docker stop -t 10`. Sets
# STOP_SECS, STOP_RC, STOP_LOG and prints one outcome line.
stop_scenario() {
    local label=$1; shift
    local c
    c=$(run -e APP_DEBUG=1 --no-healthcheck "$@") || { STOP_SECS=-1; STOP_RC=-1; STOP_LOG=; return 1; }
    if ! wait_until 30 healthy_http "$c"; then
        STOP_SECS=-1; STOP_RC=-1; STOP_LOG=$(docker logs "$c" 2>&1); return 1
    fi
    wait_until 10 logs_have "$c" "worker: job 1: started" || true
    docker exec -d -u "$APP_UID:$APP_UID" "$c" python3 -c \
        'import urllib.request; urllib.request.urlopen("http://127.0.0.1:8000/work?seconds=3", timeout=30).read()'
    http "$c" POST '/jobs?n=4' >/dev/null
    wait_until 10 logs_have "$c" "work 1: started" || true
    local t; t=$(now)
    timeout 60 docker stop -t 10 "$c" >/dev/null
    STOP_SECS=$(secs "$t" "$(now)")
    STOP_RC=$(exit_code "$c")
    STOP_LOG=$(docker logs "$c" 2>&1)
    local req=lost queue=lost worker=lost
    grep -q "work 1: done" <<<"$STOP_LOG" && req=completed
    grep -q "shutdown: queue drained" <<<"$STOP_LOG" && queue=drained
    grep -q "worker: stopped cleanly" <<<"$STOP_LOG" && worker="finished its job"
    grep -q "worker: stopped cleanly" <<<"$STOP_LOG" || worker="KILLED mid-job ($(grep -o 'worker: job [0-9]*: started' <<<"$STOP_LOG" | tail -n1 | sed 's/worker: //'))"
    printf '  %-28s docker stop %5s s, exit %s; request %s, queue %s, worker %s\n' \
        "$label:" "$STOP_SECS" "$STOP_RC" "$req" "$queue" "$worker"
}

if want stop; then
    say "== docker stop of the FastAPI example (a 3 s request and 4 jobs in flight, stop timeout 10 s)"
    stop_scenario "pidone (ENTRYPOINT /init)" "$APP"
    P_SECS=$STOP_SECS P_RC=$STOP_RC P_LOG=$STOP_LOG
    check "pidone: docker stop took $P_SECS s, well under the 10 s timeout (< 6 s)" \
        bash -c '[ "$1" != -1 ] && awk -v s="$1" "BEGIN { exit !(s < 6) }"' _ "$P_SECS"
    check "pidone: exit is uvicorn's own (0 or 143), not Docker's SIGKILL (137): $P_RC" \
        bash -c '[ "$1" = 0 ] || [ "$1" = 143 ]' _ "$P_RC"
    check "pidone: the request in flight completed" grep -q "work 1: done" <<<"$P_LOG"
    check "pidone: uvicorn's graceful shutdown completed (lifespan shutdown, queue drained, server finished)" \
        bash -c 'grep -q "shutdown: queue drained" <<<"$1" && grep -q "Application shutdown complete" <<<"$1" && grep -q "Finished server process" <<<"$1"' _ "$P_LOG"
    check "pidone: the wrapper's background worker got SIGTERM and finished cleanly" \
        bash -c 'grep -q "worker: got signal 15" <<<"$1" && grep -q "worker: stopped cleanly" <<<"$1"' _ "$P_LOG"

    if [ -n "$(docker info --format '{{.InitBinary}}' 2>/dev/null)" ]; then
        stop_scenario "docker run --init (tini)" --init --entrypoint /app/start.sh -u "$APP_UID:$APP_UID" "$APP"
        check "tini: the scenario ran (stop in $STOP_SECS s)" [ "$STOP_SECS" != -1 ]
    else
        info "docker info names no init binary: the --init comparison is skipped"
    fi
    stop_scenario "no init (uvicorn is PID 1)" --entrypoint /app/start.sh -u "$APP_UID:$APP_UID" "$APP"
    check "no init: the scenario ran (stop in $STOP_SECS s)" [ "$STOP_SECS" != -1 ]
fi

# ----------------------------------------------------------------- grace ----
if want grace; then
    say "== a TERM-ignoring app, PIDONE_GRACE=2s, docker stop -t 20"
    c=$(run -e PIDONE_GRACE=2s --no-healthcheck "$APP" python3 -c '
import signal, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("ignoring SIGTERM", flush=True)
time.sleep(600)')
    wait_until 15 logs_have "$c" "ignoring SIGTERM" || true
    t=$(now); timeout 60 docker stop -t 20 "$c" >/dev/null; s=$(secs "$t" "$(now)")
    code=$(exit_code "$c")
    info "stopped in $s s with exit $code"
    check "pidone's grace ends it in about 2 s (1.5-4.5 s): $s s" \
        bash -c 'awk -v s="$1" "BEGIN { exit !(s >= 1.5 && s < 4.5) }"' _ "$s"
    check "exit code 137 (killed by pidone at the deadline): $code" [ "$code" = 137 ]
fi

# -------------------------------------------------------------- gunicorn ----
# The FastAPI example as gunicorn with 2 uvicorn workers (start-gunicorn.sh,
# --graceful-timeout 30), the configuration Compose guides recommend.
# gunicorn_up: starts it, sets C; fails (and says why) when it does not answer.
gunicorn_up() {
    C=$(run --no-healthcheck "$APP" /app/start-gunicorn.sh) && wait_until 30 healthy_http "$C" && return 0
    fail "gunicorn answers /health within 30 s" "$(docker logs "$C" 2>&1 | tail -n 3 | tr '\n' ' ')"
    return 1
}
# gunicorn's master: the gunicorn process whose parent is not a gunicorn.
gunicorn_master() { docker top "$1" -o pid,ppid,args | awk 'NR > 1 && /bin\/gunicorn / {p[$1] = $2} END {for (k in p) if (!(p[k] in p)) print k}'; }
gunicorn_workers() { local m; m=$(gunicorn_master "$1"); docker top "$1" -o pid,ppid | awk -v m="$m" '$2 == m {print $1}' | sort -n | tr '\n' ' '; }
two_workers() { [ "$(wc -w <<<"$(gunicorn_workers "$1")")" = 2 ]; }
# new_workers C "PIDS": at least two of C's workers are not among PIDS.
new_workers() { local w n=0; for w in $(gunicorn_workers "$1"); do [[ " $2 " == *" $w "* ]] || n=$((n + 1)); done; [ "$n" -ge 2 ]; }

if want gunicorn; then
    say "== gunicorn: docker stop -t 30 during a 12 s request"
    if gunicorn_up; then
        c=$C
        cl=$(client "$c" "$GET_PY" "http://127.0.0.1:8000/work?seconds=12" 40)
        wait_until 10 logs_have "$c" "work 1: started" || true
        stop_timed "$c" -t 30
        res=$(client_result "$cl")
        info "docker stop -t 30: $SECS s, exit $RC; the client got: $res"
        check "gunicorn: the 12 s request completed with 200 (client: $res)" grep -q '^200 ' <<<"$res"
        check "gunicorn: exit 0 (gunicorn's own graceful stop), not 137: $RC" [ "$RC" = 0 ]
        check "gunicorn: stopped once the request was done, well before Docker's 30 s (9-25 s): $SECS s" \
            bash -c 'awk -v s="$1" "BEGIN { exit !(s >= 9 && s < 25) }"' _ "$SECS"
    fi
fi

if want reload; then
    say "== gunicorn: docker kill -s HUP during a 3 s request (a graceful reload)"
    if gunicorn_up; then
        c=$C
        wait_until 10 two_workers "$c" || true
        master=$(gunicorn_master "$c"); before=$(gunicorn_workers "$c")
        cl=$(client "$c" "$GET_PY" "http://127.0.0.1:8000/work?seconds=3" 20)
        wait_until 10 logs_have "$c" "work 1: started" || true
        docker kill -s HUP "$c" >/dev/null
        wait_until 15 new_workers "$c" "$before" || true
        res=$(client_result "$cl")
        after=$(gunicorn_workers "$c"); master_after=$(gunicorn_master "$c")
        running=$(docker inspect -f '{{.State.Running}}' "$c")
        info "master $master; workers before: $before; after: $after; the client got: $res"
        check "reload: the request in flight completed with 200 (client: $res)" grep -q '^200 ' <<<"$res"
        check "reload: two new workers serve (before: $before; after: $after)" new_workers "$c" "$before"
        check "reload: the master kept running (pid $master, now $master_after, container running: $running)" \
            bash -c '[ -n "$1" ] && [ "$1" = "$2" ] && [ "$3" = true ]' _ "$master" "$master_after" "$running"
        check "reload: no worker died of the HUP" bash -c '! docker logs "$1" 2>&1 | grep -q "was sent SIGHUP\|signal 1\b"' _ "$c"
        docker rm -f "$c" >/dev/null
    fi
fi

# ------------------------------------------------------------------ exec ----
# A job started with `docker exec -d` (pidone did not start it) that needs
# 1.5 s of cleanup after SIGTERM; it writes a marker into a volume when done.
EXEC_JOB='
import signal, sys, time
def on_term(*_):
    time.sleep(1.5)
    open("/x/cleanup-done", "w").write("done\n")
    sys.exit(0)
signal.signal(signal.SIGTERM, on_term)
open("/x/started", "w").write("1\n")
time.sleep(600)
'
if want exec; then
    say "== a docker exec -d job with 1.5 s of cleanup on SIGTERM"
    for how in "docker stop of the app" "the app exits on its own"; do
        d=$WORK/exec-${how// /-}; mkdir -p "$d"; chown "$APP_UID:$APP_UID" "$d"
        if [ "$how" = "docker stop of the app" ]; then
            c=$(run --no-healthcheck -v "$d:/x" "$APP" sleep 600)
        else
            c=$(run --no-healthcheck -v "$d:/x" "$APP" sh -c 'i=0; while [ ! -e /x/started ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done; sleep 1')
        fi
        docker exec -d -u "$APP_UID:$APP_UID" "$c" python3 -c "$EXEC_JOB"
        wait_until 10 test -e "$d/started" || true
        if [ "$how" = "docker stop of the app" ]; then
            stop_timed "$c" -t 30
        else
            t=$(now); timeout 30 docker wait "$c" >/dev/null; SECS=$(secs "$t" "$(now)"); RC=$(exit_code "$c")
        fi
        info "$how: container gone after $SECS s, exit $RC, marker: $(cat "$d/cleanup-done" 2>/dev/null || echo none)"
        check "exec job ($how): its 1.5 s cleanup finished before the container exited" test -e "$d/cleanup-done"
    done

    # An operator's interactive shell (`docker exec -it`) ignores SIGTERM: as
    # from a closing terminal, it gets SIGHUP and must not hold the stop until
    # Docker's SIGKILL. `script` gives the docker client the terminal it needs.
    c=$(run --no-healthcheck "$APP" sleep 600)
    sleep 25 | timeout 60 script -qfec "docker exec -it -u $APP_UID:$APP_UID $c sh" /dev/null >"$WORK/tty.log" 2>&1 &
    ttypid=$!
    shell_open() { docker top "$1" -o tty,comm 2>/dev/null | awk '$1 ~ /pts/ && $2 == "sh"' | grep -q .; }
    wait_until 15 shell_open "$c" || true
    stop_timed "$c" -t 20
    wait "$ttypid"; shrc=$?
    info "docker stop with an open docker exec -it shell: $SECS s, exit $RC; the shell's exit status: $shrc"
    check "exec -it shell: the stop is not held until Docker's 20 s (< 5 s): $SECS s" lt "$SECS" 5
    check "exec -it shell: it ended by SIGHUP (status 129), not by a SIGKILL: $shrc" [ "$shrc" = 129 ]
fi

# ----------------------------------------------------------------- delay ----
if want delay; then
    say "== PIDONE_STOP_DELAY=2s: the app keeps serving for 2 s after docker stop"
    c=$(run --no-healthcheck -e PIDONE_STOP_DELAY=2s "$APP")
    if wait_until 30 healthy_http "$c"; then
        cl=$(client "$c" "$POLL_PY" "http://127.0.0.1:8000/health" 8)
        wait_until 10 bash -c '[ -n "$(docker logs "$1" 2>/dev/null)" ]' _ "$cl" || true
        t0=$(date +%s.%N)
        stop_timed "$c" -t 30
        polls=$(client_result "$cl")
        # The last answered request, in seconds after docker stop began; and
        # whether any request in the first 1.8 s failed.
        served=$(awk -v t0="$t0" '$2 == 200 && $1 > t0 {s = $1 - t0} END {printf "%.2f", s + 0}' <<<"$polls")
        gaps=$(awk -v t0="$t0" '$1 > t0 && $1 < t0 + 1.8 && $2 != 200' <<<"$polls" | wc -l)
        info "docker stop: $SECS s, exit $RC; last request served $served s after it began; failures in the first 1.8 s: $gaps"
        check "stop delay: none of the requests of the first 1.8 s after docker stop failed, and one at 1.5 s or later was served (last at $served s)" \
            bash -c 'awk -v s="$1" "BEGIN { exit !(s >= 1.5) }" && [ "$2" = 0 ]' _ "$served" "$gaps"
        check "stop delay: then a clean stop (exit 0 or 143, 2-10 s): exit $RC in $SECS s" \
            bash -c '{ [ "$1" = 0 ] || [ "$1" = 143 ]; } && awk -v s="$2" "BEGIN { exit !(s >= 2 && s < 10) }"' _ "$RC" "$SECS"
    else
        fail "stop delay: the app came up" "$(docker logs "$c" 2>&1 | tail -n 3 | tr '\n' ' ')"
    fi
fi

# --------------------------------------------------------------- sigcont ----
if want sigcont; then
    say "== a stopped (SIGSTOP) worker at docker stop"
    c=$(run -e APP_DEBUG=1 --no-healthcheck "$APP")
    wait_until 30 logs_have "$c" "worker: job 1: started" || true
    w=$(pids_of "$c" 'app[.]worker')
    # shellcheck disable=SC2086 # one pid a word
    kill -STOP $w 2>/dev/null
    stop_timed "$c" -t 20
    info "worker (host pid $w) stopped with SIGSTOP; docker stop: $SECS s, exit $RC"
    check "sigcont: the stopped worker was continued and finished cleanly" logs_have "$c" "worker: stopped cleanly"
    check "sigcont: no wait for a deadline (< 6 s): $SECS s" lt "$SECS" 6
fi

# ----------------------------------------------------------- the cookbook ---
# nginx: TERM is its fast shutdown (downloads cut), QUIT its graceful one.
NGINX_SH='mkdir -p /tmp/www && head -c 4000000 /dev/zero >/tmp/www/big && exec nginx -e stderr -c /etc/e2e/nginx.conf'
if want nginx; then
    say "== nginx: --map TERM:QUIT lets a slow download (4 MB at 1 MB/s) finish at docker stop"
    for map in TERM:QUIT none; do
        opt=(); [ "$map" = none ] || opt=(-e "PIDONE_MAP=$map")
        c=$(run --no-healthcheck -v "$ROOT/tests/e2e/servers/nginx.conf:/etc/e2e/nginx.conf:ro" "${opt[@]}" "$APP" sh -c "$NGINX_SH")
        wait_until 20 port_open "$c" 8080 || true
        cl=$(client "$c" "$GET_PY" "http://127.0.0.1:8080/big" 30)
        sleep 1
        stop_timed "$c" -t 30
        res=$(client_result "$cl")
        info "map $map: docker stop $SECS s, exit $RC; the client got: $res"
        if [ "$map" = none ]; then
            check "nginx control, no map (TERM = fast shutdown): the download is cut (client: $res)" \
                bash -c '! grep -q "^200 4000000 " <<<"$1"' _ "$res"
        else
            check "nginx, --map TERM:QUIT: the download completed, 4000000 bytes (client: $res)" grep -q '^200 4000000 ' <<<"$res"
            check "nginx, --map TERM:QUIT: exit 0: $RC" [ "$RC" = 0 ]
        fi
    done
fi

# PostgreSQL: TERM is its smart shutdown (waits for every client: an idle
# session holds it until the SIGKILL), INT the fast one. Its backends setsid(),
# so only the postmaster hears pidone's signal. The next start's log says
# whether the stop was clean.
PG_BIN=/usr/lib/postgresql/15/bin
PG_SH="[ -e /tmp/pg/PG_VERSION ] || $PG_BIN/initdb -D /tmp/pg -A trust -U postgres >/dev/null || exit 1
exec $PG_BIN/postgres -D /tmp/pg -c listen_addresses=127.0.0.1 -c unix_socket_directories=/tmp -c log_connections=on"
if want postgres; then
    say "== PostgreSQL: --map TERM:INT stops cleanly with an idle session open"
    for map in TERM:INT none; do
        opt=(); [ "$map" = none ] || opt=(-e "PIDONE_MAP=$map")
        c=$(run --no-healthcheck -e PIDONE_USER=postgres "${opt[@]}" "$APP" sh -c "$PG_SH")
        if ! wait_until 30 logs_have "$c" "ready to accept connections"; then
            fail "postgres ($map) came up" "$(docker logs "$c" 2>&1 | tail -n 3 | tr '\n' ' ')"; continue
        fi
        docker run -d --label "$LABEL" --network "container:$c" --entrypoint sh "$APP" \
            -c "sleep 600 | $PG_BIN/psql -h 127.0.0.1 -U postgres postgres" >/dev/null
        wait_until 15 logs_have "$c" "connection authorized: user=postgres" || true
        # The control waits for Docker's SIGKILL: a short timeout keeps it quick.
        stop_timed "$c" -t "$([ "$map" = none ] && echo 4 || echo 30)"
        docker start "$c" >/dev/null
        wait_until 30 bash -c '[ "$(docker logs "$1" 2>&1 | grep -c "ready to accept connections")" -ge 2 ]' _ "$c" || true
        restart=$(docker logs "$c" 2>&1 | grep "database system was " | tail -n 1)
        info "map $map: docker stop $SECS s, exit $RC; next start: $restart"
        if [ "$map" = none ]; then
            check "postgres control, no map (smart shutdown): SIGKILLed at Docker's timeout (137), crash recovery next: $RC, $restart" \
                bash -c '[ "$1" = 137 ] && grep -Eq "interrupted|not properly shut down" <<<"$2"' _ "$RC" "$restart"
        else
            check "postgres, --map TERM:INT: a quick clean stop (exit 0, < 10 s): exit $RC in $SECS s" \
                bash -c '[ "$1" = 0 ] && awk -v s="$2" "BEGIN { exit !(s < 10) }"' _ "$RC" "$SECS"
            check "postgres, --map TERM:INT: the next start needs no recovery ($restart)" \
                bash -c 'grep -q "database system was shut down at" <<<"$1"' _ "$restart"
        fi
        docker rm -f "$c" >/dev/null
    done
fi

# The JVM exits 143 after its shutdown hooks ran on SIGTERM; --success-code
# 143 reports that as success. A stand-in program does the same (no JVM in
# the test image).
JVM_PY='
import signal, sys, time
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
print("running", flush=True)
time.sleep(600)
'
if want jvm; then
    say "== a JVM-like app (exit 143 on SIGTERM) with --success-code 143"
    for sc in 143 none; do
        opt=(); [ "$sc" = none ] || opt=(-e "PIDONE_SUCCESS_CODE=$sc")
        c=$(run --no-healthcheck "${opt[@]}" "$APP" python3 -c "$JVM_PY")
        wait_until 15 logs_have "$c" running || true
        stop_timed "$c" -t 10
        if [ "$sc" = none ]; then
            check "jvm control, no --success-code: docker stop gives 143: $RC" [ "$RC" = 143 ]
        else
            check "jvm, --success-code 143: docker stop gives 0: $RC" [ "$RC" = 0 ]
        fi
    done
fi

# ----------------------------------------------------------- healthcheck ----
if want health && [ -z "$HAS_PROBE" ]; then
    skip "e2e: HEALTHCHECK starting -> healthy -> unhealthy" "$NO_PROBE"
elif want health; then
    say "== HEALTHCHECK: starting -> healthy -> unhealthy"
    c=$(run -e APP_DEBUG=1 -e APP_STARTUP_DELAY=3 --health-interval=1s --health-timeout=2s \
        --health-retries=2 --health-start-period=30s "$APP")
    first=$(health_status "$c")
    check "health starts as 'starting' (was: $first)" [ "$first" = starting ]
    if wait_until 30 health_is "$c" healthy; then
        pass "health becomes 'healthy' within 30 s"
        http "$c" POST /debug/health/fail >/dev/null
        check "health becomes 'unhealthy' within 15 s once /health fails" wait_until 15 health_is "$c" unhealthy
    else
        fail "health becomes 'healthy' within 30 s" "status: $(health_status "$c")"
        fail "health becomes 'unhealthy' within 15 s once /health fails" "never was healthy"
    fi
    codes=$(docker inspect -f '{{range .State.Health.Log}}{{.ExitCode}} {{end}}' "$c")
    check "the probe only ever exits 0 or 1 (Docker reserves 2): $codes" bash -c '! grep -qvE "^[01]$" <<<"$(tr " " "\n" <<<"$1" | grep .)"' _ "$codes"
    info "last probe output: $(docker inspect -f '{{range .State.Health.Log}}{{.Output}}{{end}}' "$c" | grep . | tail -n1)"
fi

# --------------------------------------------------- secrets and non-root ----
if want secrets; then
    say "== a root-only secret reaches the app, which runs as uid $APP_UID"
    sdir=$WORK/secrets; mkdir -p "$sdir"
    token="e2e-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    printf '%s\n' "$token" >"$sdir/api_token"
    chown 0:0 "$sdir/api_token"; chmod 0400 "$sdir/api_token"
    want_sha=$(printf '%s' "$token" | sha256sum | cut -c1-64)
    c=$(run -e APP_DEBUG=1 --no-healthcheck -v "$sdir/api_token:/run/secrets/api_token:ro" "$APP")
    if wait_until 30 healthy_http "$c"; then
        who=$(http "$c" GET /debug/whoami)
        info "whoami: ${who/$want_sha/<sha256 of the secret>}"
        check "the app runs as uid/gid $APP_UID, no root group" \
            bash -c 'grep -q "\"uid\":$2,\"euid\":$2,\"gid\":$2,\"groups\":\[$2\]" <<<"$1"' _ "$who" "$APP_UID"
        if [ -n "$HAS_SECRETS" ]; then
            check "API_TOKEN in the app's environment is the secret file's content" grep -qF "\"api_token_sha256\":\"$want_sha\"" <<<"$who"
        else
            skip "e2e: API_TOKEN from /run/secrets/api_token" "$NO_SECRETS"
        fi
        check "the app itself cannot read the 0400 root secret file" grep -qF '"secret_file_readable_by_app":false' <<<"$who"
        procs=$(top_of "$c")
        info "docker top: $(awk '{printf "%s(uid %s) ", $4, $1}' <<<"$procs")"
        check "docker top: no process runs as root, pidone included" \
            bash -c '[ -n "$1" ] && ! awk "{print \$1}" <<<"$1" | grep -qx 0' _ "$procs"
        check "the secret's value appears nowhere in the container's logs" bash -c '! docker logs "$1" 2>&1 | grep -qF "$2"' _ "$c" "$token"
    else
        fail "the app did not come up with the secret mounted" "$(docker logs "$c" 2>&1 | tail -n 3 | tr '\n' ' ')"
    fi
fi

# --------------------------------------------------------------- orphans ----
if want orphans; then
    say "== orphans made through docker exec are reaped"
    orphans() { docker exec -u "$APP_UID:$APP_UID" "$1" sh -c 'for i in 1 2 3 4 5; do sleep 0.3 & done'; }
    # Zombies have left the container's cgroup, so `docker top` (which lists
    # the cgroup's tasks) never shows them: count them with the host's ps
    # among every process of the container's PID namespace.
    zombies() {
        local pid ns
        pid=$(docker inspect -f '{{.State.Pid}}' "$1")
        ns=$(stat -L -c %i "/proc/$pid/ns/pid")
        ps -e -o pidns=,stat= | awk -v ns="$ns" '$1 == ns && $2 ~ /^Z/' | wc -l
    }
    c=$(run --no-healthcheck "$APP" sleep 600)
    wait_until 10 bash -c '[ -n "$(docker top "$1" 2>/dev/null | grep -w sleep)" ]' _ "$c" || true
    orphans "$c"; sleep 1.5
    z=$(zombies "$c")
    check "pidone: no zombie (ps) 1.5 s after 5 orphans exited (found $z)" [ "$z" = 0 ]
    # The control shows this check can fail: python as PID 1 reaps nothing.
    c=$(run --no-healthcheck --entrypoint python3 -u "$APP_UID:$APP_UID" "$APP" -c 'import time; time.sleep(600)')
    wait_until 10 bash -c '[ -n "$(docker top "$1" 2>/dev/null | grep -w python3)" ]' _ "$c" || true
    orphans "$c"; sleep 1.5
    z=$(zombies "$c")
    check "control, no init (python3 as PID 1): the same orphans stay zombies (found $z)" [ "$z" -ge 5 ]
fi

# --------------------------------------------------------------- compose ----
if want compose && { [ -z "$HAS_PROBE" ] || [ -z "$HAS_SECRETS" ]; }; then
    why=()
    [ -n "$HAS_PROBE" ] || why+=("$NO_PROBE")
    [ -n "$HAS_SECRETS" ] || why+=("$NO_SECRETS")
    skip "e2e: compose up to healthy, down once drained" "$(IFS=';'; echo "${why[*]}")"
elif want compose; then
    COMPOSE=$(compose_cmd)
    say "== $COMPOSE up / down of examples/fastapi"
    cs=$WORK/compose-secrets; mkdir -p "$cs"
    head -c 18 /dev/urandom | base64 >"$cs/api_token.txt"
    head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$cs/redis_password.txt"
    chown 0:0 "$cs"/*.txt; chmod 0400 "$cs"/*.txt
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    export PIDONE_IMAGE APP_IMAGE=$APP REDIS_IMAGE=$REDIS APP_PORT=$port \
        API_TOKEN_FILE=$cs/api_token.txt REDIS_PASSWORD_FILE=$cs/redis_password.txt
    COMPOSE_UP=1
    t=$(now)
    if COMPOSE_TIMEOUT=300 compose up -d --no-build >"$WORK/compose-up.log" 2>&1; then
        app_c=$(compose ps -q app); redis_c=$(compose ps -q redis)
        check "redis becomes healthy" wait_until 60 health_is "$redis_c" healthy
        if wait_until 90 health_is "$app_c" healthy; then
            pass "app becomes healthy, /ready through redis with its password"
            info "stack healthy $(secs "$t" "$(now)") s after compose up"
        else
            fail "app becomes healthy, /ready through redis with its password" \
                "app: $(health_status "$app_c"); $(docker logs "$app_c" 2>&1 | tail -n 2 | tr '\n' ' ')"
        fi
        procs=$( { top_of "$app_c"; top_of "$redis_c"; } )
        info "docker top: $(awk '{printf "%s(uid %s) ", $4, $1}' <<<"$procs")"
        check "no process of the stack runs as root" \
            bash -c '[ -n "$1" ] && ! awk "{print \$1}" <<<"$1" | grep -qx 0' _ "$procs"
        timeout 120 docker logs -f "$app_c" >"$WORK/app.log" 2>&1 &
        logpid=$!
        timeout 120 docker wait "$app_c" "$redis_c" >"$WORK/exit-codes" 2>/dev/null &
        waitpid=$!
        t=$(now)
        compose down >"$WORK/compose-down.log" 2>&1
        down=$(secs "$t" "$(now)")
        COMPOSE_UP=
        wait "$logpid" "$waitpid" 2>/dev/null
        codes=$(tr '\n' ' ' <"$WORK/exit-codes")
        check "app and redis exit with their own codes after down (app 0 or 143, redis 0): $codes" \
            bash -c '[[ $1 =~ ^(0|143)\ 0\ $ ]]' _ "$codes"
        info "compose down took $down s (stop_grace_period: redis 30 s, app 35 s)"
        check "compose down stops the stack as soon as it has drained, not at stop_grace_period (< 8 s): $down s" lt "$down" 8
        check "app log after down: uvicorn's shutdown completed and the worker stopped cleanly" \
            bash -c 'grep -q "Application shutdown complete" "$1" && grep -q "worker: stopped cleanly" "$1"' _ "$WORK/app.log"
    else
        fail "compose up" "$(tail -n 5 "$WORK/compose-up.log" | tr '\n' ' ')"
    fi
fi

# ------------------------------------------------------------------ user ----
# Portable --user (contract section 4): an image with PIDONE_USER baked in,
# started by the runtime under another non-root uid, runs as that uid.
if want user; then
    say "== docker run --user 1234 with PIDONE_USER=10001:10001"
    # Only the pidone image: its child is pidone itself, a wait that never ends.
    c=$(run --user 1234:1234 -e PIDONE_USER=10001:10001 "$PIDONE_IMAGE" \
        /pidone -- /pidone wait --wait-timeout 0 file:///never)
    sleep 1
    procs=$(top_of "$c")
    info "docker top: $(awk '{printf "%s(uid %s) ", $4, $1}' <<<"$procs")"
    check "runs under --user 1234 despite PIDONE_USER=10001: pidone and its child as uid 1234" \
        bash -c '[ "$(docker inspect -f "{{.State.Running}}" "$1")" = true ] && [ "$(awk "{print \$1}" <<<"$2" | sort -u)" = 1234 ] && [ "$(wc -l <<<"$2")" = 2 ]' _ "$c" "$procs"
    check "one warning naming both uids" \
        bash -c '[ "$(docker logs "$1" 2>&1 | grep -c "warn.*10001.*1234")" = 1 ]' _ "$c"
    docker rm -f "$c" >/dev/null 2>&1
    rc=0; docker run --rm --label "$LABEL" --network none --user 1234 -e PIDONE_USER=10001 \
        "$PIDONE_IMAGE" /pidone -- /pidone env --check >/dev/null 2>&1 || rc=$?
    check "docker run --user 1234 … -- CMD exits with CMD's code (0), not 125: $rc" [ "$rc" = 0 ]
fi

say "== e2e took $(secs "$T0" "$(now)") s"
for f in "${FAILURES[@]}"; do say "  failed: $f"; done
say "$PASSED passed, $FAILED failed, $SKIPPED skipped"
[ "$FAILED" = 0 ]
