#!/usr/bin/env bash
# End-to-end checks of pidone in real Docker containers (`make e2e`).
#
# Builds everything locally, with no network inside any build: a Debian base
# made by debootstrap (tests/e2e/base.sh), Python wheels fetched on the host
# with pip into a cache outside git, the FastAPI example from
# Dockerfile.example and its Redis. Then checks the contract in containers.
# Every wait is bounded. Prints one `N passed, N failed` line at the end and
# exits non-zero when any check failed.
#
# Environment: PIDONE_IMAGE (default pidone:latest, `make image`),
# PIDONE_E2E_CACHE (default ~/.cache/pidone-e2e), E2E_ONLY (a regex of check
# groups to run: static exit stop grace health secrets orphans compose user).
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PIDONE_IMAGE=${PIDONE_IMAGE:-pidone:latest}
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

APP=pidone-e2e/fastapi:latest
REDIS=pidone-e2e/redis:latest
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
    # The pidone image holds one file, /pidone, and nothing else.
    layers=$(docker image inspect -f '{{len .RootFS.Layers}}' "$PIDONE_IMAGE")
    files=$(docker save "$PIDONE_IMAGE" | tar -xO --wildcards '*layer.tar' 2>/dev/null | tar -ti | sort | tr '\n' ' ')
    check "pidone image: one layer holding only /pidone (layers: $layers, files: $files)" \
        [ "$layers/$files" = "1/pidone " ]
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
    check "app image: exec-form ENTRYPOINT [/init --] and HEALTHCHECK /init probe with a start period" \
        bash -c '[ "$(docker image inspect -f "{{json .Config.Entrypoint}} {{json .Config.Healthcheck.Test}} {{.Config.Healthcheck.StartPeriod}}" "$1")" = "[\"/init\",\"--\"] [\"CMD\",\"/init\",\"probe\",\"/health\"] 20s" ]' _ "$APP"

    # The Kubernetes and Compose manifests say what the guide asks.
    if ! python3 -c 'import yaml' 2>/dev/null; then
        skip "e2e: kubernetes and compose manifests" "the host's python3 has no yaml module (PyYAML)"
    else
        check "kubernetes: exec probes, secret volume, runAsNonRoot, no privilege escalation, grace above PIDONE_GRACE" \
            python3 - "$ROOT/examples/kubernetes/deployment.yaml" <<'EOF'
import re, sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
spec = d["spec"]["template"]["spec"]
c = spec["containers"][0]
env = {e["name"]: e.get("value") for e in c["env"]}
sec = spec["securityContext"]
assert sec["runAsNonRoot"] is True and isinstance(sec["runAsUser"], int) and sec["runAsUser"] > 0
assert c["securityContext"]["allowPrivilegeEscalation"] is False
assert c["livenessProbe"]["exec"]["command"] == ["/init", "probe", "/health"]
assert c["readinessProbe"]["exec"]["command"] == ["/init", "probe", "/ready"]
mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
vols = {v["name"]: v for v in spec["volumes"]}
assert any("secret" in vols[n] and env.get("PIDONE_SECRETS_DIR") == p for n, p in mounts.items())
grace = int(re.fullmatch(r"(\d+)s", env["PIDONE_GRACE"]).group(1))
assert spec["terminationGracePeriodSeconds"] > grace, "terminationGracePeriodSeconds must exceed PIDONE_GRACE"
EOF
        check "compose: depends_on service_healthy, stop_grace_period above PIDONE_GRACE, secrets" \
            python3 - "$ROOT/examples/fastapi/docker-compose.yml" <<'EOF'
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
s = d["services"]
assert s["app"]["depends_on"]["redis"]["condition"] == "service_healthy"
for name, svc in s.items():
    grace = int(svc["environment"]["PIDONE_GRACE"].rstrip("s"))
    assert int(svc["stop_grace_period"].rstrip("s")) > grace, name
    assert svc["secrets"], name
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
    skip "e2e: compose up to healthy, down within grace" "$(IFS=';'; echo "${why[*]}")"
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
        info "compose down took $down s (stop_grace_period: redis 8 s, app 10 s)"
        check "compose down stops the stack within its grace (< 8 s): $down s" lt "$down" 8
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
    rc=0; out=$(docker run --rm --label "$LABEL" --network none --user 1234 -e PIDONE_USER=10001 \
        "$PIDONE_IMAGE" /pidone -- /pidone env --check 2>&1) || rc=$?
    check "docker run --user 1234 … -- CMD exits with CMD's code (0), not 125: $rc" [ "$rc" = 0 ]
fi

say "== e2e took $(secs "$T0" "$(now)") s"
for f in "${FAILURES[@]}"; do say "  failed: $f"; done
say "$PASSED passed, $FAILED failed, $SKIPPED skipped"
[ "$FAILED" = 0 ]
