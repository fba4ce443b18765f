/*
 * benchhelper: the processes that `make bench` runs under each init.
 * One multi-call binary, so that every init supervises the same program.
 *
 *   benchhelper sigwait READYFD OUT      block SIGTERM, say ready, wait for it,
 *                                        write CLOCK_MONOTONIC ns to OUT, exit 0
 *   benchhelper pause READYFD            say ready, sleep until killed
 *   benchhelper ignore-term READYFD      ignore SIGTERM, say ready, sleep
 *   benchhelper zombies N OUT            make N orphan zombies at once, time
 *                                        their reaping (bounded at 2 s)
 *   benchhelper drain N DIR READYFD      start N processes that need 300 ms
 *                                        to clean up after SIGTERM, then exit
 *   benchhelper httpd PORTFILE           tiny HTTP server on 127.0.0.1
 *   benchhelper maxrss CMD...            peak RSS of CMD (kB) and its exit code
 *
 * READYFD is a descriptor inherited from the harness: one byte is written to
 * it once the process is set up, then it is closed. Every wait is bounded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_ns(int64_t ns) {
    struct timespec ts = {ns / 1000000000, ns % 1000000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static void ready(const char *fdarg) {
    int fd = atoi(fdarg);
    if (fd > 2) {
        (void)!write(fd, "r", 1);
        close(fd);
    }
}

static void write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        perror(path);
        _exit(3);
    }
    (void)!write(fd, text, strlen(text));
    close(fd);
}

/* SIGTERM back to its default action and blocked, whatever was inherited
 * (a `trap "" TERM` shell above us must not hide it from sigwaitinfo). */
static sigset_t block_term(void) {
    sigset_t set;
    signal(SIGTERM, SIG_DFL);
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    return set;
}

static int cmd_sigwait(char **av) {
    sigset_t set = block_term();
    ready(av[0]);
    if (sigwaitinfo(&set, NULL) != SIGTERM) return 2;
    int64_t t = now_ns();
    char buf[32];
    snprintf(buf, sizeof buf, "%lld\n", (long long)t);
    write_file(av[1], buf);
    return 0;
}

static int cmd_pause(char **av, int ignore_term) {
    if (ignore_term) signal(SIGTERM, SIG_IGN);
    ready(av[0]);
    alarm(600); /* bounded: 10 minutes at most (the harness kills us long before) */
    for (;;) pause();
    return 0;
}

static int cmd_zombies(char **av) {
    long n = atol(av[0]);
    const char *out = av[1];
    pid_t *pids = mmap(NULL, sizeof(pid_t) * (size_t)n, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    long *made = mmap(NULL, sizeof(long), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (pids == MAP_FAILED || made == MAP_FAILED) return 3;
    signal(SIGCHLD, SIG_DFL);
    pid_t spawner = fork();
    if (spawner < 0) return 3;
    if (spawner == 0) {
        /* Children exit at once and stay zombies of the spawner; when the
         * spawner exits they are all re-parented to the init together. */
        long i;
        for (i = 0; i < n; i++) {
            pid_t p = fork();
            if (p < 0) break;
            if (p == 0) _exit(0);
            pids[i] = p;
        }
        *made = i;
        _exit(0);
    }
    int st;
    while (waitpid(spawner, &st, 0) < 0 && errno == EINTR) {
    }
    int64_t t0 = now_ns(), deadline = t0 + 2000000000LL, gone_at = -1;
    long m = *made, i = 0;
    while (i < m) {
        if (kill(pids[i], 0) < 0 && errno == ESRCH) {
            i++;
            continue;
        }
        if (now_ns() > deadline) break;
        sleep_ns(50000);
    }
    if (i == m) gone_at = now_ns() - t0;
    long left = 0;
    for (long j = i; j < m; j++)
        if (kill(pids[j], 0) == 0) left++;
    char buf[128];
    snprintf(buf, sizeof buf, "made=%ld all_gone_ns=%lld left_at_2s=%ld\n", m, (long long)gone_at, left);
    write_file(out, buf);
    return 0;
}

static int cmd_drain(char **av) {
    long n = atol(av[0]);
    const char *dir = av[1];
    int p[2];
    if (pipe(p) < 0) return 3;
    for (long i = 0; i < n; i++) {
        pid_t c = fork();
        if (c < 0) return 3;
        if (c == 0) {
            close(p[0]);
            int rfd = atoi(av[2]);
            if (rfd > 2) close(rfd);
            sigset_t set = block_term();
            (void)!write(p[1], "r", 1);
            close(p[1]);
            struct timespec limit = {30, 0};
            if (sigtimedwait(&set, NULL, &limit) != SIGTERM) _exit(2);
            sleep_ns(300000000); /* the cleanup the app needs */
            char path[4096];
            snprintf(path, sizeof path, "%s/done.%ld", dir, i);
            write_file(path, "done\n");
            _exit(0);
        }
    }
    close(p[1]);
    char c;
    for (long got = 0; got < n;) {
        ssize_t r = read(p[0], &c, 1);
        if (r == 1) got++;
        else if (r == 0 || errno != EINTR) return 3;
    }
    ready(av[2]);
    char path[4096], buf[32];
    snprintf(path, sizeof path, "%s/main-exit", dir);
    snprintf(buf, sizeof buf, "%lld\n", (long long)now_ns());
    write_file(path, buf);
    return 0; /* the main child exits; the n processes are left behind */
}

static int cmd_httpd(char **av) {
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 128) < 0) return 3;
    socklen_t len = sizeof a;
    getsockname(s, (struct sockaddr *)&a, &len);
    char buf[4096];
    snprintf(buf, sizeof buf, "%d\n", ntohs(a.sin_port));
    write_file(av[0], buf);
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n";
    static const char nf[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    alarm(600); /* bounded even if nobody stops us */
    for (;;) {
        int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0) continue;
        struct timeval tv = {2, 0};
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        size_t got = 0;
        while (got < sizeof buf - 1) {
            ssize_t r = read(c, buf + got, sizeof buf - 1 - got);
            if (r <= 0) break;
            got += (size_t)r;
            buf[got] = 0;
            if (strstr(buf, "\r\n\r\n")) break;
        }
        buf[got] = 0;
        int health = strncmp(buf, "GET /health ", 12) == 0 || strncmp(buf, "HEAD /health ", 13) == 0;
        const char *resp = health ? ok : nf;
        (void)!write(c, resp, strlen(resp));
        shutdown(c, SHUT_WR);
        /* drain so that close does not reset the connection */
        while (read(c, buf, sizeof buf) > 0) {
        }
        close(c);
    }
}

/* Peak RSS of CMD (ru_maxrss from wait4). CMD is started with posix_spawn
 * (vfork-style), so the memory image it replaces at exec is this small
 * process's shared one, not a copy of a big interpreter's; floor_kb is this
 * process's own peak (a check: `maxrss pidone --version` reports less than
 * it, so the figure is CMD's own). Bounded: CMD is killed after 10 s. */
extern char **environ;
static int cmd_maxrss(char **av) {
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, devnull, 1);
    posix_spawn_file_actions_adddup2(&fa, devnull, 2);
    long floor_kb = -1;
    FILE *f = fopen("/proc/self/status", "re");
    char line[256];
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6)) floor_kb = atol(line + 6);
    if (f) fclose(f);
    pid_t pid;
    if (posix_spawnp(&pid, av[0], &fa, NULL, av, environ) != 0) return 3;
    alarm(10);
    int st;
    struct rusage ru;
    while (wait4(pid, &st, 0, &ru) < 0) {
        if (errno != EINTR) return 3;
    }
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    printf("maxrss_kb=%ld floor_kb=%ld exit=%d\n", ru.ru_maxrss, floor_kb, code);
    return 0;
}

static void on_alarm(int sig) {
    (void)sig;
    kill(0, SIGKILL);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: benchhelper sigwait|pause|ignore-term|zombies|drain|httpd ARGS...\n");
        return 64;
    }
    const char *cmd = argv[1];
    char **av = argv + 2;
    int n = argc - 2;
    if (!strcmp(cmd, "sigwait") && n == 2) return cmd_sigwait(av);
    if (!strcmp(cmd, "pause") && n == 1) return cmd_pause(av, 0);
    if (!strcmp(cmd, "ignore-term") && n == 1) return cmd_pause(av, 1);
    if (!strcmp(cmd, "zombies") && n == 2) return cmd_zombies(av);
    if (!strcmp(cmd, "drain") && n == 3) return cmd_drain(av);
    if (!strcmp(cmd, "httpd") && n == 1) return cmd_httpd(av);
    if (!strcmp(cmd, "maxrss")) {
        signal(SIGALRM, on_alarm);
        return cmd_maxrss(av);
    }
    fprintf(stderr, "benchhelper: bad arguments for %s\n", cmd);
    return 64;
}
