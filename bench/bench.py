#!/usr/bin/env python3
"""`make bench`: pidone side by side with tini, dumb-init and catatonit.

Every init runs as PID 1 of a fresh PID+mount namespace
(`unshare --pid --fork --mount-proc --kill-child INIT ... CHILD`) under the
same scenarios, the inits interleaved (round-robin, rotated each round) so that
machine drift hits all alike. The processes each init supervises are one
multi-call C helper (bench/benchhelper.c) so that every init runs the same
child. Prints the markdown tables and writes the raw data to
results/YYYYmmdd-HHMMSS/.

Every wait is bounded; everything started is killed on the way out.
"""

import argparse
import datetime
import json
import os
import shutil
import platform
import select
import shlex
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UNSHARE = ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child"]
NA_NOT_BUILT = "n/a (not built yet)"

# name -> (binary, argv prefix before CHILD); filled in by main()
INITS = {}
ORDER = []
STARTED = []  # every Popen we started, killed on the way out
LOG = None  # stderr of everything we start


def mono():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


def rotate(seq, k):
    k %= len(seq)
    return seq[k:] + seq[:k]


def median(xs):
    return statistics.median(xs) if xs else None


def pct(xs, p):
    """Nearest-rank percentile."""
    if not xs:
        return None
    s = sorted(xs)
    k = max(0, min(len(s) - 1, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


def say(*a):
    print(*a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- processes


def spawn(argv, ready=False, env=None, pass_fds=()):
    """Start argv in its own session; with ready=True the last argument slot
    "{READY}" is replaced by the write end of a pipe and the read end is
    returned for wait_ready()."""
    rfd = None
    fds = list(pass_fds)
    if ready:
        rfd, wfd = os.pipe()
        argv = [str(wfd) if a == "{READY}" else a for a in argv]
        fds.append(wfd)
    e = dict(os.environ)
    e["PIDONE_ALLOW_ROOT"] = "1"
    if env:
        e.update(env)
    p = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=LOG,
        pass_fds=fds, start_new_session=True, env=e)
    STARTED.append(p)
    if ready:
        os.close(wfd)
    p.ready_fd = rfd
    return p


def wait_ready(p, timeout=5.0):
    """True once the child wrote its ready byte (bounded)."""
    r, _, _ = select.select([p.ready_fd], [], [], timeout)
    ok = bool(r) and os.read(p.ready_fd, 1) == b"r"
    os.close(p.ready_fd)
    p.ready_fd = None
    return ok


def ppid_of(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
        return int(s[s.rindex(")") + 2:].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def init_pid(p):
    """Host pid of the namespace's PID 1: the child of the unshare process."""
    if ppid_of(p.pid + 1) == p.pid:
        return p.pid + 1
    for d in os.listdir("/proc"):
        if d.isdigit() and ppid_of(int(d)) == p.pid:
            return int(d)
    return None


def find_init(p, timeout=2.0):
    """init_pid, polled (bounded) from right after the spawn: for an init
    that may exit at once, and whose pidfd must be opened before it does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = init_pid(p)
        if pid:
            return pid
        time.sleep(0.0005)
    return None


def settle(pid, timeout=1.0):
    """Wait (bounded) until pid sleeps, then 1 ms more: the init has finished
    its post-spawn work and blocks in its signal wait, for every init alike."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                s = f.read()
            if s[s.rindex(")") + 2] == "S":
                break
        except (OSError, ValueError, IndexError):
            break
        time.sleep(0.0002)
    time.sleep(0.001)


def pidfd(pid):
    try:
        return os.pidfd_open(pid)
    except OSError:
        return None


def wait_fd(fd, timeout):
    """Wait until pidfd fd is readable (the process exited); returns the
    monotonic ns at wake-up, or None on timeout."""
    if fd is None:
        return mono()
    r, _, _ = select.select([fd], [], [], timeout)
    return mono() if r else None


def finish(p, timeout=5.0):
    """Wait for p (bounded), SIGKILL it and its namespace if still running.
    Returns p's exit status (unshare passes on the init's), or None."""
    try:
        return p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill(p)
        return None


def kill(p):
    ip = init_pid(p)
    for pid in (ip, p.pid):
        if pid:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    try:
        p.wait(timeout=5)
    except subprocess.TimeoutExpired:
        say(f"warning: pid {p.pid} did not die within 5 s of SIGKILL")


def cleanup():
    for p in STARTED:
        if p.poll() is None:
            kill(p)


def status_text(rc):
    if rc is None:
        return "still running"
    return f"sig{-rc}" if rc < 0 else str(rc)


def pid1(init, child, ready=True, extra=None):
    binary, prefix = INITS[init]
    if extra:
        prefix = prefix[:-1] + extra + prefix[-1:] if prefix and prefix[-1] == "--" else prefix + extra
    return spawn(UNSHARE + prefix + child, ready=ready)


# ---------------------------------------------------------------- scenarios


def elf_static(path):
    """(is_static, interpreter) from the ELF program headers."""
    with open(path, "rb") as f:
        h = f.read(64)
        phoff, = struct.unpack_from("<Q", h, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", h, 0x36)
        for i in range(phnum):
            f.seek(phoff + i * phentsize)
            ptype, = struct.unpack("<I", f.read(4))
            if ptype == 3:  # PT_INTERP
                return False
    return True


def sc_size():
    out = {}
    for name in ORDER:
        binary = INITS[name][0]
        if binary:
            out[name] = {"path": binary, "bytes": os.stat(binary).st_size, "static": elf_static(binary)}
    return out


def hyperfine_rounds(cmds, rounds, runs, warmup, tag, outdir):
    """cmds: list of (name, argv). Runs hyperfine `rounds` times with the
    command order rotated each round; returns name -> list of seconds."""
    times = {n: [] for n, _ in cmds}
    for r in range(rounds):
        js = os.path.join(outdir, f"hyperfine-{tag}-{r}.json")
        args = ["hyperfine", "-N", "--style", "none", "--warmup", str(warmup), "--runs", str(runs),
                "--export-json", js]
        for n, argv in rotate(cmds, r):
            args += ["-n", n, shlex.join(argv)]
        env = dict(os.environ, PIDONE_ALLOW_ROOT="1")
        subprocess.run(args, stdout=subprocess.DEVNULL, stderr=LOG, env=env, check=True, timeout=120)
        with open(js) as f:
            for res in json.load(f)["results"]:
                times[res["command"]].extend(res["times"])
    return times


def sc_startup(a, outdir):
    cmds = [(n, UNSHARE + INITS[n][1] + ["/bin/true"]) for n in ORDER]
    t = hyperfine_rounds(cmds, a.rounds, a.startup_runs, 5, "startup", outdir)
    return {n: {"median_ms": median(v) * 1e3, "n": len(v)} for n, v in t.items()}


def read_status(pid):
    d = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            d[k] = v.strip()
    return d


def pss_kb(pid):
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return None


def other_users(binary, mine):
    """Processes outside `mine` running `binary`: they share its pages and
    lower its Pss, so the table marks such a figure."""
    n = 0
    for d in os.listdir("/proc"):
        if d.isdigit() and int(d) not in mine:
            try:
                if os.readlink(f"/proc/{d}/exe") == binary:
                    n += 1
            except OSError:
                pass
    return n


def ctxt(st):
    return int(st["voluntary_ctxt_switches"]) + int(st["nonvoluntary_ctxt_switches"])


def sc_idle(a):
    """Concurrently (each init its own namespace), but never two instances
    of one binary at once: they would share pages and halve each other's Pss."""
    waves, seen = [[]], [set()]
    for n in ORDER:
        b = INITS[n][0]
        for w, s in zip(waves, seen):
            if b not in s or b is None:
                w.append(n)
                s.add(b)
                break
        else:
            waves.append([n])
            seen.append({b})
    out = {}
    for wave in waves:
        procs = {n: pid1(n, [HELPER, "pause", "{READY}"]) for n in wave}
        try:
            pids = {}
            for n, p in procs.items():
                if wait_ready(p):
                    pids[n] = init_pid(p)
            time.sleep(1.0)
            first = {}
            for n, pid in pids.items():
                st = read_status(pid)
                first[n] = (int(st["VmRSS"].split()[0]), pss_kb(pid), ctxt(st), mono())
            shared = {n: other_users(INITS[n][0], set(pids.values())) for n in pids if INITS[n][0]}
            time.sleep(a.idle_window)
            for n, pid in pids.items():
                st = read_status(pid)
                rss, pss, c0, t0 = first[n]
                secs = (mono() - t0) / 1e9
                out[n] = {"rss_kb": rss, "pss_kb": pss, "ctxt_switches": ctxt(st) - c0, "window_s": secs,
                          "other_processes_of_binary": shared.get(n, 0)}
        finally:
            for p in procs.values():
                kill(p)
    return out


def sc_latency(a, tmp):
    out = {n: {"lat_us": [], "lost": 0, "exit": {}} for n in ORDER}
    path = os.path.join(tmp, "sigwait.out")
    for trial in range(a.trials):
        for n in rotate(ORDER, trial):
            if os.path.exists(path):
                os.unlink(path)
            p = pid1(n, [HELPER, "sigwait", "{READY}", path])
            if not wait_ready(p):
                out[n]["lost"] += 1
                kill(p)
                continue
            pid = init_pid(p)
            settle(pid)
            t0 = mono()
            os.kill(pid, signal.SIGTERM)
            rc = finish(p, 5.0)
            try:
                with open(path) as f:
                    out[n]["lat_us"].append((int(f.read()) - t0) / 1e3)
            except (OSError, ValueError):
                out[n]["lost"] += 1
            k = status_text(rc)
            out[n]["exit"][k] = out[n]["exit"].get(k, 0) + 1
    res = {}
    for n, d in out.items():
        v = d["lat_us"]
        res[n] = {"n": len(v), "lost": d["lost"], "median_us": median(v), "p99_us": pct(v, 99),
                  "min_us": min(v) if v else None, "max_us": max(v) if v else None, "exit": d["exit"],
                  "raw_us": [round(x, 2) for x in v]}
    return res


def sc_zombies(a, tmp):
    res = {}
    path = os.path.join(tmp, "zombies.out")
    for count, trials in ((2000, a.zombie_trials), (20000, 1)):
        for trial in range(trials):
            for n in rotate(ORDER, trial):
                if os.path.exists(path):
                    os.unlink(path)
                p = pid1(n, [HELPER, "zombies", str(count), path], ready=False)
                rc = finish(p, 60.0)
                d = {"exit": status_text(rc)}
                try:
                    with open(path) as f:
                        for kv in f.read().split():
                            k, _, v = kv.partition("=")
                            d[k] = int(v)
                except OSError:
                    d["error"] = "no result"
                res.setdefault(f"{n}/{count}", []).append(d)
    return res


def sc_shutdown(a):
    """SIGTERM to the init while the child ignores it; all inits at once."""
    names = [n for n in ORDER if n != "none"]
    procs, fds, t0 = {}, {}, {}
    try:
        for n in names:
            extra = ["--grace", "2s"] if n.startswith("pidone") else None
            procs[n] = pid1(n, [HELPER, "ignore-term", "{READY}"], extra=extra)
        for n, p in procs.items():
            wait_ready(p)
        for n, p in procs.items():
            pid = init_pid(p)
            fds[n] = pidfd(pid)
            t0[n] = mono()
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + a.shutdown_bound
        out = {}
        for n, p in procs.items():
            t = wait_fd(fds[n], max(0.0, deadline - time.monotonic()))
            if t is None:
                out[n] = {"exit": "still running", "bound_s": a.shutdown_bound}
            else:
                rc = finish(p, 5.0)
                out[n] = {"exit": status_text(rc), "secs": (t - t0[n]) / 1e9}
        return out
    finally:
        for fd in fds.values():
            if fd is not None:
                os.close(fd)
        for p in procs.values():
            kill(p)


def sc_drain(a, tmp):
    res = {n: [] for n in ORDER}
    for trial in range(a.drain_trials):
        for n in rotate(ORDER, trial):
            d = tempfile.mkdtemp(dir=tmp, prefix=f"drain-{n}-")
            p = pid1(n, [HELPER, "drain", str(a.orphans), d, "{READY}"])
            ip = find_init(p)
            fd = pidfd(ip) if ip else None
            if not wait_ready(p, 10.0) or fd is None:
                res[n].append({"error": "no init pid" if fd is None else "not ready", "exit": status_text(finish(p, 5.0))})
                continue
            t = wait_fd(fd, 15.0)
            if fd is not None:
                os.close(fd)
            rc = finish(p, 5.0)
            done = sum(1 for f in os.listdir(d) if f.startswith("done."))
            try:
                with open(os.path.join(d, "main-exit")) as f:
                    main_exit = int(f.read())
            except (OSError, ValueError):
                main_exit = None
            res[n].append({"done": done, "of": a.orphans, "exit": status_text(rc),
                           "init_exit_ms": (t - main_exit) / 1e6 if t and main_exit else None})
    return res


def sc_group(a, tmp):
    """`sh -c 'trap "" TERM; WORKER; echo done'`: does the worker get SIGTERM?"""
    procs, outs, t0 = {}, {}, {}
    script = 'trap "" TERM; "$0" sigwait "$1" "$2"; echo done'
    try:
        for n in ORDER:
            outs[n] = os.path.join(tmp, f"group-{n}.out")
            procs[n] = pid1(n, ["/bin/sh", "-c", script, HELPER, "{READY}", outs[n]])
        for n, p in procs.items():
            wait_ready(p)
        for n, p in procs.items():
            t0[n] = mono()
            os.kill(init_pid(p), signal.SIGTERM)
        deadline = time.monotonic() + a.group_bound
        out = {}
        for n in ORDER:
            while not os.path.exists(outs[n]) and time.monotonic() < deadline:
                time.sleep(0.005)
            try:
                with open(outs[n]) as f:
                    out[n] = {"got_term": True, "latency_us": (int(f.read()) - t0[n]) / 1e3}
            except (OSError, ValueError):
                out[n] = {"got_term": False}
        return out
    finally:
        for p in procs.values():
            kill(p)


def run_rusage(argv):
    """Run argv under `benchhelper maxrss` (bounded at 10 s there), output
    discarded; returns (exit code, peak RSS kB). Not measured from Python:
    ru_maxrss would include the Python image the command replaced at exec."""
    r = subprocess.run([HELPER, "maxrss"] + argv, stdout=subprocess.PIPE, stderr=LOG, timeout=20,
                       env=dict(os.environ, PIDONE_ALLOW_ROOT="1"))
    d = dict(kv.split("=", 1) for kv in r.stdout.decode().split())
    return int(d.get("exit", -1)), int(d.get("maxrss_kb", -1))


def variants():
    """The pidone builds under test: `pidone`, and the --alt one if given."""
    return [n for n in ORDER if n.startswith("pidone")]


def probe_cmds(url):
    py = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else "python3"
    return [(f"{n} probe", [INITS[n][0], "probe", url]) for n in variants()] + [
        # no -T: busybox-static 1.35's wget segfaults with -T and -O-
        ("busybox wget", ["busybox", "wget", "-q", "-O", "/dev/null", url]),
        ("GNU wget", ["wget", "-q", "-T", "5", "-O", "/dev/null", url]),
        ("curl", ["curl", "-fsS", "--max-time", "5", "-o", "/dev/null", url]),
        ("python3 urllib", [py, "-c", f"import urllib.request as u; u.urlopen('{url}', timeout=5).read()"]),
    ]


def sc_probe(a, tmp, outdir):
    """One healthy GET /health against benchhelper's server; each probe must
    also fail on a 404, or its row says so."""
    portfile = os.path.join(tmp, "httpd.port")
    srv = spawn([HELPER, "httpd", portfile])
    try:
        deadline = time.monotonic() + 5
        while not os.path.exists(portfile) and time.monotonic() < deadline:
            time.sleep(0.01)
        with open(portfile) as fh:
            port = int(fh.read())
        url = f"http://127.0.0.1:{port}/health"
        out, ok = {"_callgrind": {}}, []
        for name, argv in probe_cmds(url):
            ours = name.startswith("pidone")
            rc, _ = run_rusage(argv)
            bad, _ = run_rusage(argv[:-1] + [url.replace("/health", "/missing")])
            if rc != 0 or bad == 0:
                out[name] = {"result": NA_NOT_BUILT if ours else f"fails (rc {rc} healthy / {bad} on 404)"}
                continue
            ok.append((name, argv))
            rss = [run_rusage(argv)[1] for _ in range(5)]
            out[name] = {"peak_rss_kb": median(rss), "rss_runs": rss, "rc_404": bad}
            if ours:  # while the server is up
                out["_callgrind"][name.split()[0]] = callgrind(argv, tmp, "probe", as_nobody=True)
        if ok:
            t = hyperfine_rounds(ok, a.rounds, a.probe_runs, 3, "probe", outdir)
            for name, v in t.items():
                out[name]["median_ms"] = median(v) * 1e3
                out[name]["n"] = len(v)
        out["_url"] = url
        return out
    finally:
        kill(srv)


def make_env_inputs(tmp):
    """A 1,000-line env file (100 comments, 900 variables in every syntax:
    export, quotes with escapes, ${VAR}, ${VAR:-default}) and 100 secrets."""
    envf = os.path.join(tmp, "bench.env")
    kinds = [  # line i uses kinds[i % 10]
        lambda i: f"# section {i // 10}",
        lambda i: f"export APP_EXPORTED_{i}=value-{i}",
        lambda i: f'APP_DQ_{i}="double quoted {i} with \\"escapes\\" and \\n newline"',
        lambda i: f"APP_SQ_{i}='single quoted $NOT_EXPANDED {i}'",
        lambda i: f"APP_REF_{i}=${{APP_EXPORTED_{i - 3}}}/sub",
        lambda i: f"APP_DEF_{i}=${{UNSET_VARIABLE_{i}:-fallback-{i}}}",
    ]
    plain = lambda i: f"APP_PLAIN_{i}=plain_value_{i}_abcdefghijklmnopqrstuvwxyz"  # noqa: E731
    lines = [(kinds[i % 10] if i % 10 < len(kinds) else plain)(i) for i in range(1000)]
    with open(envf, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    sec = os.path.join(tmp, "secrets")
    os.mkdir(sec)
    for i in range(100):
        with open(os.path.join(sec, f"db-password.{i:03d}"), "w") as fh:
            fh.write(f"s3cr3t-{i:03d}-" + "x" * 40 + "\n")
    return envf, sec


def sc_env(a, tmp, outdir):
    envf, sec = make_env_inputs(tmp)
    out, cmds = {}, []
    for n in variants():
        full = [INITS[n][0], "env", "--env-file", envf, "--secrets-dir", sec, "--check"]
        r = subprocess.run(full, stdout=subprocess.PIPE, stderr=LOG, timeout=10)
        names = r.stdout.decode(errors="replace").split()
        if r.returncode != 0 or len(names) < 1000:
            out[n] = {"result": NA_NOT_BUILT, "rc": r.returncode, "names": len(names)}
            continue
        out[n] = {"names": len(names), "_argv": full}
        cmds += [(f"{n} env", full), (f"{n} env, no inputs", [INITS[n][0], "env", "--check"])]
    if cmds:
        t = hyperfine_rounds(cmds, a.rounds, a.env_runs, 3, "env", outdir)
        for n, d in out.items():
            if "_argv" in d:
                d["median_ms"] = median(t[f"{n} env"]) * 1e3
                d["empty_median_ms"] = median(t[f"{n} env, no inputs"]) * 1e3
                d["peak_rss_kb"] = median([run_rusage(d["_argv"])[1] for _ in range(5)])
    return out


def make_scale_inputs(tmp):
    """Contract §3's scale case: one env file of 100,000 variables in shuffled
    order (under the 1 MiB limit) and a secrets directory of 20,000 files."""
    import random
    envf = os.path.join(tmp, "scale.env")
    names = [f"V{i:05d}" for i in range(100000)]
    random.Random(1).shuffle(names)
    with open(envf, "w") as fh:
        fh.write("".join(f"{n}=1\n" for n in names))
    sec = os.path.join(tmp, "scale-secrets")
    os.mkdir(sec)
    for i in range(20000):
        with open(os.path.join(sec, f"secret-{i:05d}"), "w") as fh:
            fh.write("x\n")
    return envf, sec


def sc_env_scale(a, tmp):
    """Wall time of `env --check` over the scale inputs (median of a few runs;
    each run bounded at 120 s)."""
    envf, sec = make_scale_inputs(tmp)
    out = {}
    for n in variants():
        d = out[n] = {}
        for key, args, want in (("vars_100k", ["--env-file", envf], 100000),
                                ("secrets_20k", ["--secrets-dir", sec], 20000)):
            times = []
            for _ in range(3 if not a.quick else 1):
                t = mono()
                r = subprocess.run([INITS[n][0], "env", "--check"] + args, stdout=subprocess.PIPE, stderr=LOG,
                                   timeout=120, env={"PIDONE_ALLOW_ROOT": "1"})
                times.append((mono() - t) / 1e6)
                if r.returncode != 0 or len(r.stdout.split()) != want:
                    d[key] = {"result": f"exit {r.returncode}, {len(r.stdout.split())} names"}
                    break
            else:
                d[key] = {"median_ms": median(times)}
    return out


def callgrind(argv, tmp, tag, as_nobody=False):
    """Instructions executed by argv's own process (not its children:
    --trace-children=no, and only the total of argv's pid is counted).
    Deterministic: the same binary gives the same count on any load."""
    # A probe started as root drops to 65534 before it connects, and callgrind
    # could not write its file any more: `as_nobody` runs the whole thing as
    # 65534 (the probe then has nothing to drop), in a directory it can write.
    d = tempfile.mkdtemp(prefix=f"pidone-cg-{tag}-")
    os.chmod(d, 0o777)
    user = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"] if as_nobody else []
    # A fixed, small environment: pidone copies and indexes its environment
    # and searches PATH, so the count would otherwise follow the caller's.
    p = subprocess.run(user + ["valgrind", "--tool=callgrind", f"--callgrind-out-file={d}/cg.%p"] + argv,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60, cwd=d,
                       env={"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/root", "LANG": "C"})
    err = p.stderr.decode(errors="replace")
    main_pid = None
    for line in err.splitlines():
        if line.startswith("==") and "Command:" in line:
            main_pid = line.split("==")[1]
            break
    shutil.rmtree(d, ignore_errors=True)
    for line in err.splitlines():
        if line.startswith(f"=={main_pid}==") and "Collected :" in line:
            return {"instructions": int(line.split(":")[1].replace(",", "")), "exit": p.returncode}
    return {"error": "no callgrind total", "exit": p.returncode}


def sc_callgrind(a, tmp, R):
    out = {}
    for n in variants():
        b = INITS[n][0]
        out[n] = {"run": callgrind([b, "--allow-root", "--", "/bin/true"], tmp, "run")}
        if n in R.get("probe", {}).get("_callgrind", {}):
            out[n]["probe"] = R["probe"]["_callgrind"][n]
        argv = R.get("env", {}).get(n, {}).get("_argv")
        if not argv:  # the env scenario was not run (--only): its inputs, made here
            envf, sec = make_env_inputs(tempfile.mkdtemp(dir=tmp, prefix="env-"))
            argv = [b, "env", "--env-file", envf, "--secrets-dir", sec, "--check"]
        out[n]["env"] = callgrind(argv, tmp, "env")
    return out


# ---------------------------------------------------------------- report


def machine():
    def sh(cmd):
        try:
            return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=10,
                                  shell=True).stdout.decode().strip()
        except (OSError, subprocess.SubprocessError):
            return ""
    cpu = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-").strip()
    with open("/proc/loadavg") as fh:
        load = fh.read().split()[:3]
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "nproc": os.cpu_count(), "cpu": cpu, "kernel": platform.release(), "loadavg": load,
        "autogroup": sh("cat /proc/sys/kernel/sched_autogroup_enabled"),
        "packages": sh("dpkg-query -W tini dumb-init catatonit busybox-static curl wget hyperfine valgrind "
                       "2>/dev/null | tr '\\t' ' ' | paste -sd, -"),
        "pidone": sh(f"{shlex.quote(INITS['pidone'][0])} --version") + " @ " +
        sh(f"git -C {shlex.quote(ROOT)} rev-parse --short HEAD"),
    }


def f(x, fmt="{:.0f}", none="–"):
    return none if x is None else fmt.format(x)


def yes(b):
    return "yes" if b else "**no**"


def met(test):
    """The goal column's verdict for every pidone build: test(name) -> bool."""
    vs = variants()
    if len(vs) == 1:
        return yes(test(vs[0]))
    return ", ".join(f"{n}: {yes(test(n))}" for n in vs)


def render(R, a):
    cols = ORDER
    head = ["figure"] + [f"`{n}`" for n in cols] + ["goal (pidone)", "met"]
    rows = []

    def row(label, cells, goal="", verdict=""):
        rows.append([label] + [cells.get(n, "–") for n in cols] + [goal, verdict])

    sz = R["size"]
    ts_bytes = sz["tini-static"]["bytes"]
    row("static binary, bytes", {n: f"{d['bytes']:,}" + ("" if d["static"] else " (dyn)") for n, d in sz.items()},
        "≤ 600 KB (600,000) and < tini-static",
        met(lambda n: sz[n]["bytes"] <= 600 * 1024 and sz[n]["bytes"] < ts_bytes))

    st = R["startup"]
    base, ts = st["none"]["median_ms"], st["tini-static"]["median_ms"]
    row("startup `INIT -- true`, median ms", {n: f"{d['median_ms']:.3f}" for n, d in st.items()})
    row("startup ×no-init / ×tini-static",
        {n: f"×{d['median_ms'] / base:.2f} / ×{d['median_ms'] / ts:.2f}" for n, d in st.items()},
        "≤ tini-static", met(lambda n: st[n]["median_ms"] <= ts))

    idle = R["idle"]
    row("idle RSS kB @1 s", {n: str(d["rss_kb"]) for n, d in idle.items()})
    row("idle Pss kB @1 s (* = binary shared with other processes)",
        {n: str(d["pss_kb"]) + ("*" if d.get("other_processes_of_binary") else "") for n, d in idle.items()},
        "≤ tini-static",
        met(lambda n: idle[n]["pss_kb"] <= idle["tini-static"]["pss_kb"]))
    row(f"idle context switches / {a.idle_window:.0f} s", {n: str(d["ctxt_switches"]) for n, d in idle.items()},
        "0", met(lambda n: idle[n]["ctxt_switches"] == 0))

    lat = R["latency"]
    peers = [n for n in cols if n != "none" and not n.startswith("pidone") and lat[n]["median_us"] is not None]
    best = min(lat[n]["median_us"] for n in peers)
    row(f"SIGTERM → child, µs median / p99 ({a.trials} trials)",
        {n: f"{f(d['median_us'], '{:.1f}')} / {f(d['p99_us'], '{:.0f}')}" + (f" ({d['lost']} lost)" if d["lost"] else "")
         for n, d in lat.items()}, f"median ≤ 1.1 × best peer ({best:.1f})",
        met(lambda n: lat[n]["median_us"] is not None and lat[n]["median_us"] <= 1.1 * best))

    z = R["zombies"]
    for count in (2000, 20000):
        cells, lefts = {}, {}
        for n in cols:
            ds = z.get(f"{n}/{count}", [])
            gone = [d["all_gone_ns"] / 1e6 for d in ds if d.get("all_gone_ns", -1) >= 0]
            left = [d.get("left_at_2s", count) for d in ds]
            made = min((d.get("made", 0) for d in ds), default=0)
            lefts[n] = max(left) if left else None
            ms = f"{median(gone):.1f} ms" if len(gone) == len(ds) and ds else "never"
            cells[n] = f"{ms} / {lefts[n]}" + (f" (made {made})" if made != count else "")
        if count == 20000:
            row(f"reap {count:,} orphan zombies: time / left @2 s", cells, "zero left",
                met(lambda n: lefts.get(n) == 0))
        else:
            row(f"reap {count:,} orphan zombies: time / left @2 s", cells)

    sd = R["shutdown"]
    row("TERM-ignoring child: init exits after / code",
        {n: (f"{d['secs']:.2f} s / {d['exit']}" if "secs" in d else f"still running @{d['bound_s']:.0f} s")
         for n, d in sd.items()}, "`--grace 2s` → 2 s, 137",
        met(lambda n: sd[n].get("exit") == "137" and abs(sd[n].get("secs", 0) - 2.0) < 0.2))

    dr = R["drain"]
    cells = {}
    for n, ds in dr.items():
        ok = [d for d in ds if "done" in d]
        share = median([100.0 * d["done"] / d["of"] for d in ok])
        ex = median([d["init_exit_ms"] for d in ok if d["init_exit_ms"] is not None])
        cells[n] = f"{f(share)} % / {f(ex, '{:.1f}')} ms"
    row(f"drain: share of {a.orphans} orphans' 300 ms cleanup done / init exits after main child",
        cells, "100 %",
        met(lambda n: bool(dr[n]) and all(d.get("done") == d.get("of") for d in dr[n])))

    g = R["group"]
    row("`sh -c` wrapper's grandchild gets SIGTERM",
        {n: ("yes" if d["got_term"] else "no") for n, d in g.items()})

    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(r) + " |" for r in rows]

    # probes and env are not inits: their own rows
    pr = R["probe"]
    out += ["", "| probe / env (127.0.0.1, one healthy check) | median ms | peak RSS kB | goal (pidone) | met |",
            "|---|---|---|---|---|"]
    bb = pr.get("busybox wget", {}).get("median_ms")
    probe_goal = "faster than busybox wget, < 1024 kB"
    for name, d in pr.items():
        if name.startswith("_"):
            continue
        ours = name.startswith("pidone")
        if "median_ms" not in d:
            out.append(f"| {name} | {d.get('result')} | – | {probe_goal if ours else ''} | {'**no**' if ours else ''} |")
            continue
        verdict = yes(bb is not None and d["median_ms"] < bb and d["peak_rss_kb"] < 1024) if ours else ""
        out.append(f"| `{name}` | {d['median_ms']:.2f} | {d['peak_rss_kb']} | {probe_goal if ours else ''} | {verdict} |")
    for n, e in R["env"].items():
        label = f"`{n} env --check`, 1,000-line env file + 100 secrets"
        if "median_ms" in e:
            out.append(f"| {label} ({e['names']} names) | {e['median_ms']:.2f} "
                       f"(no inputs: {e['empty_median_ms']:.2f}) | {e['peak_rss_kb']} | | |")
        else:
            out.append(f"| {label} | {e['result']} | – | | |")
    for n, e in R.get("env_scale", {}).items():
        for key, label in (("vars_100k", "100,000 shuffled variables in one env file"),
                           ("secrets_20k", "20,000 files in a secrets directory")):
            d = e.get(key, {})
            ms = f"{d['median_ms']:.0f}" if "median_ms" in d else d.get("result", "–")
            out.append(f"| `{n} env --check`, {label} | {ms} | – | < 1000 ms | "
                       f"{yes(d.get('median_ms', 1e9) < 1000)} |")
    cg = R["callgrind"]
    out += ["", "| callgrind instructions, pidone's own process (machine-noise free) | "
            + " | ".join(variants()) + " |", "|---|" + "---|" * len(variants())]
    for key, label in (("run", "`--allow-root -- /bin/true` (not PID 1; the child not counted)"),
                       ("probe", "`probe URL` (one healthy check, run as uid 65534)"),
                       ("env", "`env --check`, 1,000 lines + 100 secrets")):
        out.append(f"| {label} | " + " | ".join(
            f(cg.get(n, {}).get(key, {}).get("instructions"), "{:,}", NA_NOT_BUILT) for n in variants()) + " |")
    return "\n".join(out)


# ---------------------------------------------------------------- main


def main():
    global LOG, HELPER
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pidone", default=os.path.join(ROOT, "dist/pidone"))
    ap.add_argument("--helper", default=os.path.join(ROOT, "target/bench/benchhelper"))
    ap.add_argument("--results", default=os.path.join(ROOT, "results"))
    ap.add_argument("--quick", action="store_true", help="fewer trials (a smoke test, not for the table)")
    ap.add_argument("--only", default="", help="comma list of scenarios to run")
    ap.add_argument("--trials", type=int, help="signal-latency trials per init")
    ap.add_argument("--alt", help="a second pidone binary (e.g. dist/pidone-tiny) run as one more init, named "
                    "after its file when that starts with `pidone`, else `pidone-alt` (A/B a change)")
    a = ap.parse_args()
    a.pidone = os.path.abspath(a.pidone)
    HELPER = os.path.abspath(a.helper)
    trials = a.trials
    a.rounds, a.startup_runs, a.probe_runs, a.env_runs = 3, 40, 20, 30
    a.trials, a.zombie_trials, a.drain_trials, a.orphans = 200, 3, 3, 20
    a.idle_window, a.shutdown_bound, a.group_bound = 10.0, 5.0, 1.0
    if a.quick:
        a.rounds, a.startup_runs, a.probe_runs, a.env_runs = 1, 10, 5, 5
        a.trials, a.zombie_trials, a.drain_trials, a.idle_window = 20, 1, 1, 2.0
    if trials:
        a.trials = trials

    def which(c):
        for d in os.environ.get("PATH", "").split(":"):
            p = os.path.join(d, c)
            if os.access(p, os.X_OK):
                return p
        sys.exit(f"bench: {c} is missing (make bench installs it)")

    alt = os.path.abspath(a.alt) if a.alt else None
    alt_name = os.path.basename(alt) if alt and os.path.basename(alt).startswith("pidone-") else "pidone-alt"
    tini, tini_s, dumb, cata = which("tini"), which("tini-static"), which("dumb-init"), which("catatonit")
    INITS.update({
        "pidone": (a.pidone, [a.pidone, "--allow-root", "--"]),
        **({alt_name: (alt, [alt, "--allow-root", "--"])} if alt else {}),
        "tini-static": (tini_s, [tini_s, "--"]),
        "tini": (tini, [tini, "--"]),
        "tini-g": (tini, [tini, "-g", "--"]),
        "dumb-init": (dumb, [dumb]),
        "catatonit": (cata, [cata, "--"]),
        "catatonit-g": (cata, [cata, "-g", "--"]),
        "none": (None, []),
    })
    ORDER[:] = list(INITS)

    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    outdir = os.path.join(a.results, stamp)
    os.makedirs(outdir, exist_ok=True)
    LOG = open(os.path.join(outdir, "stderr.log"), "w")
    tmp = tempfile.mkdtemp(prefix="pidone-bench-")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    R = {"machine_start": machine(), "settings": dict(vars(a)),
         "inits": {n: " ".join(v[1]) or "(no init)" for n, v in INITS.items()}}
    only = set(filter(None, a.only.split(",")))
    try:
        steps = [
            ("size", lambda: sc_size()),
            ("startup", lambda: sc_startup(a, outdir)),
            ("idle", lambda: sc_idle(a)),
            ("latency", lambda: sc_latency(a, tmp)),
            ("zombies", lambda: sc_zombies(a, tmp)),
            ("shutdown", lambda: sc_shutdown(a)),
            ("drain", lambda: sc_drain(a, tmp)),
            ("group", lambda: sc_group(a, tmp)),
            ("probe", lambda: sc_probe(a, tmp, outdir)),
            ("env", lambda: sc_env(a, tmp, outdir)),
            ("env_scale", lambda: sc_env_scale(a, tmp)),
        ]
        for name, fn in steps:
            if only and name not in only:
                continue
            t = time.monotonic()
            say(f"bench: {name} ...")
            R[name] = fn()
            say(f"bench: {name} done in {time.monotonic() - t:.1f} s")
        if not only or "callgrind" in only:
            R["callgrind"] = sc_callgrind(a, tmp, R)
    finally:
        cleanup()
        subprocess.run(["rm", "-rf", tmp], timeout=60)
    R["machine_end"] = machine()
    R["total_s"] = time.monotonic() - started
    with open(os.path.join(outdir, "raw.json"), "w") as fh:
        json.dump(R, fh, indent=1)
    if only:
        print(json.dumps({k: v for k, v in R.items() if k in only or k == "callgrind"}, indent=1)[:20000])
        return
    m0, m1 = R["machine_start"], R["machine_end"]
    text = "\n".join([
        f"pidone bench, {m0['date']}: {m0['nproc']} CPUs ({m0['cpu']}), kernel {m0['kernel']}, "
        f"autogroup={m0['autogroup']}, load {' '.join(m0['loadavg'])} at start / {' '.join(m1['loadavg'])} at end, "
        f"{m0['pidone']}, total {R['total_s']:.0f} s",
        "",
        render(R, a),
        "",
        f"raw data: {os.path.relpath(outdir, ROOT)}/raw.json",
    ])
    with open(os.path.join(outdir, "table.md"), "w") as fh:
        fh.write(text + "\n")
    print(text)


if __name__ == "__main__":
    try:
        main()
    finally:
        cleanup()
