//! pidone-testhelper: small programs the integration tests run under pidone.
//! One multi-call binary; the first argument picks the program.
//!
//!   sigprint FILE [N]      block every catchable signal, append each received
//!                          signal number to FILE (a line each), exit 0 after N
//!   ignore-term FILE       ignore SIGTERM, create FILE, sleep forever
//!   slow-term MS FILE      on SIGTERM sleep MS then create FILE and exit 0
//!                          (writes FILE.ready once the handler is in place)
//!   orphans N MS           fork N children that each live MS ms, exit at once
//!   sigstate --ignore LIST --block LIST -- CMD...
//!                          set dispositions and mask, then exec CMD
//!   steady FILE            ignore every signal but SIGTERM, create FILE, sleep
//!   become-root FILE       (setuid-root copy) setresuid(0,0,0), write FILE, sleep
//!   killself N             die of signal N
//!   forker MS              fork children that exit at once, in a loop, for MS ms

use std::ffi::CString;
use std::io::Write;
use std::time::{Duration, Instant};

fn die(msg: &str) -> ! {
    eprintln!("pidone-testhelper: {msg}");
    std::process::exit(99)
}

fn touch(path: &str) {
    std::fs::write(path, b"").unwrap_or_else(|e| die(&format!("{path}: {e}")));
}

fn block_all() -> libc::sigset_t {
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for sig in 1..=64 {
            if sig != libc::SIGKILL && sig != libc::SIGSTOP && sig != libc::SIGCHLD {
                libc::sigaddset(&mut set, sig);
            }
        }
        libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    }
}

fn sigwait(set: &libc::sigset_t) -> i32 {
    loop {
        let sig = unsafe { libc::sigwaitinfo(set, std::ptr::null_mut()) };
        if sig > 0 {
            return sig;
        }
    }
}

fn sigprint(file: &str, limit: Option<usize>) {
    let set = block_all();
    let mut out =
        std::fs::OpenOptions::new().create(true).append(true).open(file).unwrap_or_else(|e| die(&e.to_string()));
    writeln!(out, "ready {}", std::process::id()).ok();
    let mut count = 0;
    loop {
        let sig = sigwait(&set);
        writeln!(out, "{sig}").ok();
        count += 1;
        if limit.is_some_and(|n| count >= n) {
            std::process::exit(0);
        }
    }
}

fn parse_list(s: &str) -> Vec<i32> {
    s.split(',').filter(|x| !x.is_empty()).map(|x| x.parse().unwrap_or_else(|_| die("bad signal list"))).collect()
}

fn sigstate(args: &[String]) {
    let mut i = 0;
    let (mut ignore, mut block) = (Vec::new(), Vec::new());
    while i < args.len() {
        match args[i].as_str() {
            "--ignore" => ignore = parse_list(&args[i + 1]),
            "--block" => block = parse_list(&args[i + 1]),
            "--" => break,
            other => die(&format!("sigstate: unexpected {other}")),
        }
        i += 2;
    }
    let cmd: Vec<CString> = args[i + 1..].iter().map(|a| CString::new(a.as_str()).unwrap()).collect();
    unsafe {
        for sig in ignore {
            libc::signal(sig, libc::SIG_IGN);
        }
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for sig in block {
            libc::sigaddset(&mut set, sig);
        }
        libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
        let mut ptrs: Vec<*const libc::c_char> = cmd.iter().map(|c| c.as_ptr()).collect();
        ptrs.push(std::ptr::null());
        libc::execv(ptrs[0], ptrs.as_ptr());
    }
    die("exec failed")
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or_else(|| die("missing argument"));
    match arg(0) {
        "sigprint" => sigprint(arg(1), args.get(2).map(|n| n.parse().unwrap_or_else(|_| die("bad count")))),
        "ignore-term" => {
            unsafe { libc::signal(libc::SIGTERM, libc::SIG_IGN) };
            touch(arg(1));
            loop {
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
        "slow-term" => {
            let ms: u64 = arg(1).parse().unwrap_or_else(|_| die("bad ms"));
            let file = arg(2).to_string();
            let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
            unsafe {
                libc::sigemptyset(&mut set);
                libc::sigaddset(&mut set, libc::SIGTERM);
                libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
            }
            touch(&format!("{file}.ready"));
            sigwait(&set);
            std::thread::sleep(Duration::from_millis(ms));
            touch(&file);
            std::process::exit(0);
        }
        "orphans" => {
            let n: usize = arg(1).parse().unwrap_or_else(|_| die("bad count"));
            let ms: u64 = arg(2).parse().unwrap_or_else(|_| die("bad ms"));
            for _ in 0..n {
                match unsafe { libc::fork() } {
                    0 => {
                        if ms > 0 {
                            std::thread::sleep(Duration::from_millis(ms));
                        }
                        unsafe { libc::_exit(0) }
                    }
                    -1 => die("fork failed"),
                    _ => {}
                }
            }
        }
        "forker" => {
            let ms: u64 = arg(1).parse().unwrap_or_else(|_| die("bad ms"));
            let end = Instant::now() + Duration::from_millis(ms);
            let mut n = 0u64;
            while Instant::now() < end {
                match unsafe { libc::fork() } {
                    0 => unsafe { libc::_exit(0) },
                    -1 => std::thread::sleep(Duration::from_millis(1)),
                    _ => n += 1,
                }
            }
            println!("forked {n}");
        }
        "sigstate" => sigstate(&args[1..]),
        "steady" => {
            // Ignore every signal but SIGTERM (default action: die of it).
            for sig in 1..=64 {
                if ![libc::SIGKILL, libc::SIGSTOP, libc::SIGTERM, libc::SIGCHLD].contains(&sig) {
                    unsafe { libc::signal(sig, libc::SIG_IGN) };
                }
            }
            touch(arg(1));
            loop {
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
        "become-root" => {
            // Run from a setuid-root copy: make every uid 0, so that an
            // unprivileged parent can no longer signal this process.
            unsafe { libc::setresuid(0, 0, 0) };
            let ruid = unsafe { libc::getuid() };
            std::fs::write(arg(1), format!("ruid={ruid}\n")).unwrap_or_else(|e| die(&e.to_string()));
            loop {
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
        "killself" => {
            let sig: i32 = arg(1).parse().unwrap_or_else(|_| die("bad signal"));
            unsafe {
                libc::signal(sig, libc::SIG_DFL);
                let mut set: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut set);
                libc::sigaddset(&mut set, sig);
                libc::sigprocmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
                libc::raise(sig);
            }
            die("still alive after raise")
        }
        other => die(&format!("unknown program {other}")),
    }
}
