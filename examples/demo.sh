#!/bin/sh
# A real run of pidone as PID 1 of a new PID namespace (what a container gets):
# an app makes zombies and starts a background worker, then `docker stop`
# (here: SIGTERM to PID 1) arrives. Watch pidone reap, forward and drain.
set -u
BIN=${1:-dist/pidone}
[ -x "$BIN" ] || { echo "demo: $BIN missing (run make build)"; exit 1; }
command -v unshare >/dev/null || { echo "demo: needs unshare (util-linux)"; exit 1; }
if [ "$(id -u)" != 0 ]; then UNSHARE="unshare --user --map-root-user"; else UNSHARE="unshare"; fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/app.sh" <<'APP'
#!/bin/sh
say() { echo "  [app $$] $*"; }
say "started as pid $$ under pidone (PID 1)"
# 1. Orphans: children whose parent does not wait for them.
for i in 1 2 3 4 5; do (sleep 0.05 &) ; done
sleep 0.3
zombies=$(ps -eo stat= | grep -c '^Z' || true)
say "made 5 orphans; zombies left now: $zombies (pidone reaped them)"
# 2. A worker in the background, as a shell-form CMD would start it.
sh -c '
  trap "echo \"  [worker] SIGTERM: finishing the in-flight job (1.5s)...\"; sleep 1.5; echo \"  [worker] job saved, exiting cleanly\"; exit 0" TERM
  echo "  [worker $$] running"
  while :; do sleep 0.1; done' &
trap 'say "SIGTERM: exiting at once with 143 (the worker is still busy)"; exit 143' TERM
say "ready"
while :; do sleep 0.1; done
APP
chmod +x "$tmp/app.sh"

echo "== pidone demo: $BIN ($(stat -c %s "$BIN") bytes, $(file -b "$BIN" | cut -d, -f1-2))"
echo "== starting: pidone -v -- app.sh   (as PID 1 of a new PID namespace)"
$UNSHARE --pid --fork --mount-proc "$BIN" -v --allow-root -- "$tmp/app.sh" 2>&1 &
outer=$!
sleep 1.2
init=$(cat /proc/$outer/task/$outer/children 2>/dev/null | cut -d' ' -f1)
echo "== docker stop: sending SIGTERM to PID 1 (host pid $init)"
sent=$(date +%s%N)
kill -TERM "$init"
wait $outer
code=$?
end=$(date +%s%N)
echo "== pidone exited with code $code (the app's own code) $(( (end - sent) / 1000000 )) ms after SIGTERM:"
echo "   it waited for the worker's cleanup instead of killing it, and exited as soon as the worker was done"
echo "   (no deadline of its own: the runtime's stop timeout, docker stop -t, decides when to SIGKILL)."
[ "$code" = 143 ] || { echo "demo: unexpected exit code $code"; exit 1; }
