"""Rust programs batch 42 compiles and runs (standard library only, built with plain `rustc` in debug mode so
overflow checks are on), the broken sources it hands to `rustc`, and a listener whose accept queue is full so
that a connect to it times out on 127.0.0.1.

* `fetchd`: a hand-rolled HTTP/1.1 client over `std::net::TcpStream`, as deploy tools and sidecars write when
  they avoid dependencies. It resolves with `ToSocketAddrs`, connects with `connect_timeout`, sets read
  timeouts, honours `Content-Length`, and on a status outside 2xx returns `Err(format!(...))` with the status
  line (and optionally the body). `fan-out` opens many connections at once; `upload` streams a large body.
* `opsctl`: file and config chores with `std::fs`, errors bubbling out of `main` with `?` (so Rust prints the
  `Debug` form) or with a context string; a hand-rolled `key = value` config parser.
* `worker`: data-processing code with defects that panic (index out of bounds, `unwrap` on `None`, overflow,
  `RefCell` double borrow, division by zero, unbounded recursion, a poisoned mutex...).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from common import Env

RUSTC = shutil.which("rustc") or str(Path.home() / ".cargo" / "bin" / "rustc")

FETCHD = r'''
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::thread::sleep;
use std::time::Duration;

struct Url {
    host: String,
    port: u16,
    path: String,
}

fn parse_url(url: &str) -> Result<Url, String> {
    let rest = url.strip_prefix("http://").ok_or_else(|| format!("unsupported URL scheme in {url:?}"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, p.parse::<u16>().map_err(|e| format!("bad port in {url:?}: {e}"))?),
        None => (authority, 80),
    };
    Ok(Url { host: host.to_string(), port, path: path.to_string() })
}

fn resolve(url: &Url) -> Result<SocketAddr, String> {
    let mut addrs = (url.host.as_str(), url.port)
        .to_socket_addrs()
        .map_err(|e| format!("failed to resolve {}:{}: {e}", url.host, url.port))?;
    addrs.next().ok_or_else(|| format!("{} resolved to no addresses", url.host))
}

struct Response {
    status_line: String,
    body: String,
}

fn request(method: &str, url_text: &str, token: Option<&str>, timeout: Duration) -> Result<Response, String> {
    let url = parse_url(url_text)?;
    let addr = resolve(&url)?;
    let mut stream = TcpStream::connect_timeout(&addr, timeout)
        .map_err(|e| format!("connect to {addr} failed: {e}"))?;
    stream.set_read_timeout(Some(timeout)).map_err(|e| e.to_string())?;
    let mut head = format!(
        "{method} {} HTTP/1.1\r\nHost: {}:{}\r\nUser-Agent: fetchd/0.4.2\r\n", url.path, url.host, url.port
    );
    head.push_str("Accept: application/json\r\nConnection: close\r\n");
    if let Some(t) = token {
        head.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    head.push_str("Content-Length: 0\r\n\r\n");
    stream.write_all(head.as_bytes()).map_err(|e| format!("sending request to {addr}: {e}"))?;
    let mut reader = BufReader::new(stream);
    let mut status_line = String::new();
    reader.read_line(&mut status_line).map_err(|e| format!("reading response from {addr}: {e}"))?;
    if status_line.is_empty() {
        return Err(format!("{addr} closed the connection without a response"));
    }
    let mut length: Option<usize> = None;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).map_err(|e| format!("reading headers from {addr}: {e}"))?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok();
            }
        }
    }
    let mut body = Vec::new();
    match length {
        Some(n) => {
            body.resize(n, 0);
            reader.read_exact(&mut body).map_err(|e| format!("reading body from {addr}: {e}"))?;
        }
        None => {
            reader.read_to_end(&mut body).map_err(|e| format!("reading body from {addr}: {e}"))?;
        }
    }
    Ok(Response { status_line: status_line.trim_end().to_string(), body: String::from_utf8_lossy(&body).into_owned() })
}

fn check(method: &str, url: &str, token: Option<&str>, show_body: bool) -> Result<String, String> {
    let resp = request(method, url, token, Duration::from_secs(2))?;
    let code: u16 = resp.status_line.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    if !(200..300).contains(&code) {
        if show_body {
            return Err(format!("{method} {url}: {}: {}", resp.status_line, resp.body.trim()));
        }
        return Err(format!("{method} {url}: unexpected status: {}", resp.status_line));
    }
    Ok(resp.body)
}

fn with_attempts(attempts: u32, mut f: impl FnMut() -> Result<String, String>) -> Result<String, String> {
    let mut last = String::new();
    for n in 1..=attempts {
        match f() {
            Ok(body) => return Ok(body),
            Err(e) => {
                eprintln!("[WARN fetchd] attempt {n}/{attempts} failed: {e}");
                last = e;
                sleep(Duration::from_millis(100));
            }
        }
    }
    Err(format!("giving up after {attempts} attempts: {last}"))
}

fn fan_out(url: &str, count: usize) -> Result<String, String> {
    let parsed = parse_url(url)?;
    let addr = resolve(&parsed)?;
    let mut open = Vec::new();
    for i in 0..count {
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))
            .map_err(|e| format!("probe {i} of {count} to {addr}: {e}"))?;
        open.push(stream);
    }
    Ok(format!("{} probes connected", open.len()))
}

fn upload(url: &str, megabytes: usize) -> Result<String, String> {
    let parsed = parse_url(url)?;
    let addr = resolve(&parsed)?;
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))
        .map_err(|e| format!("connect to {addr} failed: {e}"))?;
    let total = megabytes * 1024 * 1024;
    let head = format!(
        "PUT {} HTTP/1.1\r\nHost: {}:{}\r\nContent-Type: application/octet-stream\r\nContent-Length: {total}\r\n\r\n",
        parsed.path, parsed.host, parsed.port
    );
    stream.write_all(head.as_bytes()).map_err(|e| format!("upload to {addr}: {e}"))?;
    let chunk = vec![0x5a_u8; 64 * 1024];
    let mut sent = 0;
    while sent < total {
        stream.write_all(&chunk).map_err(|e| format!("upload to {addr} failed after {sent} bytes: {e}"))?;
        sent += chunk.len();
        sleep(Duration::from_millis(5));
    }
    Ok(format!("uploaded {sent} bytes"))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize| args.get(i).cloned().unwrap_or_default();
    let token = std::env::var("FETCHD_TOKEN").ok();
    let result = match arg(1).as_str() {
        "get" => check("GET", &arg(2), token.as_deref(), false),
        "get-body" => check("GET", &arg(2), token.as_deref(), true),
        "post" => check("POST", &arg(2), token.as_deref(), true),
        "retry" => {
            let attempts = arg(3).parse().unwrap_or(3);
            with_attempts(attempts, || check("GET", &arg(2), token.as_deref(), false))
        }
        "fan-out" => fan_out(&arg(2), arg(3).parse().unwrap_or(64)),
        "upload" => upload(&arg(2), arg(3).parse().unwrap_or(32)),
        other => Err(format!("unknown command {other:?}")),
    };
    match result {
        Ok(body) => {
            println!("{body}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("fetchd: error: {e}");
            ExitCode::FAILURE
        }
    }
}
'''

OPSCTL = r'''
use std::collections::HashMap;
use std::error::Error;
use std::fs::{self, File};
use std::io::Write;
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

#[derive(Debug)]
struct Config {
    listen: String,
    workers: usize,
    timeout: Duration,
}

fn parse_config(path: &str) -> Result<Config, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let mut values: HashMap<String, String> = HashMap::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .ok_or_else(|| format!("{path}:{}: expected `key = value`, found {line:?}", n + 1))?;
        values.insert(key.trim().to_string(), value.trim().trim_matches('"').to_string());
    }
    let get = |k: &str| values.get(k).cloned().ok_or_else(|| format!("{path}: missing required key `{k}`"));
    let workers = get("workers")?
        .parse::<usize>()
        .map_err(|e| format!("{path}: invalid value for `workers`: {e}"))?;
    let secs = get("timeout_secs")?
        .parse::<u64>()
        .map_err(|e| format!("{path}: invalid value for `timeout_secs`: {e}"))?;
    Ok(Config { listen: get("listen")?, workers, timeout: Duration::from_secs(secs) })
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
    match arg(1) {
        "show" => {
            let text = fs::read_to_string(arg(2))?;
            println!("{text}");
        }
        "check-config" => {
            let cfg = parse_config(&arg(2))?;
            println!("{cfg:?}");
        }
        "write-artifact" => {
            let size: usize = arg(3).parse()?;
            let data = vec![0xa5_u8; size];
            fs::write(arg(2), &data)?;
        }
        "stage" => {
            let dest = Path::new(arg(3));
            fs::copy(arg(2), dest).map_err(|e| format!("staging {} into {}: {e}", arg(2), dest.display()))?;
        }
        "init-release" => {
            let dir = Path::new(arg(2));
            fs::create_dir(dir)?;
            let mut manifest = File::create(dir.join("MANIFEST"))?;
            writeln!(manifest, "release = {}", arg(3))?;
        }
        "emit" => {
            let dir = Path::new(arg(2));
            fs::create_dir_all(dir).map_err(|e| format!("creating output dir {}: {e}", dir.display()))?;
            fs::write(dir.join("report.json"), b"{\"ok\": true}\n")
                .map_err(|e| format!("writing {}: {e}", dir.join("report.json").display()))?;
        }
        "clean" => {
            fs::remove_dir(arg(2))?;
        }
        "open-all" => {
            let mut handles = Vec::new();
            for entry in fs::read_dir(arg(2))? {
                let path = entry?.path();
                let file = File::open(&path).map_err(|e| format!("opening {}: {e}", path.display()))?;
                handles.push(file);
            }
            println!("{} files open", handles.len());
        }
        "load-index" => {
            let megabytes: usize = arg(2).parse()?;
            let buffer = vec![0_u8; megabytes * 1024 * 1024];
            println!("{}", buffer.len());
        }
        "reserve" => {
            let records: usize = arg(2).parse()?;
            let mut rows: Vec<u64> = Vec::new();
            rows.try_reserve(records).map_err(|e| format!("cannot allocate buffer for {records} records: {e}"))?;
        }
        "set-port" => {
            let port: u16 = arg(2).parse()?;
            println!("{port}");
        }
        "set-listen-port" => {
            let port = arg(2).parse::<u16>().map_err(|e| format!("invalid --port {:?}: {e}", arg(2)))?;
            println!("{port}");
        }
        "allow" => {
            let ip: IpAddr = arg(2).parse().map_err(|e| format!("invalid allowlist entry {:?}: {e}", arg(2)))?;
            println!("{ip}");
        }
        "flag" => {
            let enabled: bool = arg(2).parse()?;
            println!("{enabled}");
        }
        other => return Err(format!("unknown command {other:?}").into()),
    }
    Ok(())
}
'''

WORKER = r'''
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::thread;

struct Ledger {
    entries: RefCell<Vec<u32>>,
}

impl Ledger {
    fn record(&self, amount: u32) {
        let mut entries = self.entries.borrow_mut();
        entries.push(amount);
    }
}

fn depth(node: u64, path: &mut Vec<[u64; 32]>) -> u64 {
    let frame = [node; 32];
    path.push(frame);
    let parent = if node == 0 { 1 } else { node - 1 };
    1 + depth(parent, path) + frame[node as usize % 32] % 2
}

fn shard_for(key: &str, shards: &[&str]) -> String {
    let hash: usize = key.bytes().map(|b| b as usize).sum();
    let idx = hash % (shards.len() + 1);
    shards[idx].to_string()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let command = args.get(1).cloned().unwrap_or_default();
    match command.as_str() {
        "route" => {
            let shards = ["eu-1", "eu-2", "us-1"];
            for key in ["order-16", "order-17", "order-18", "order-19"] {
                println!("{key} -> {}", shard_for(key, &shards));
            }
        }
        "region" => {
            let mut settings: HashMap<&str, &str> = HashMap::new();
            settings.insert("zone", "b");
            let region = settings.get("region").copied().unwrap();
            println!("{region}");
        }
        "lookup" => {
            let mut owners: HashMap<String, String> = HashMap::new();
            owners.insert("billing".into(), "team-a".into());
            println!("{}", owners["payments"]);
        }
        "retries" => {
            let mut budget: u8 = 248 + args.len() as u8;
            for _ in 0..10 {
                budget += 1;
            }
            println!("{budget}");
        }
        "ledger" => {
            let ledger = Ledger { entries: RefCell::new(vec![10, 20]) };
            let view = ledger.entries.borrow();
            ledger.record(view.len() as u32);
            println!("{}", view.len());
        }
        "average" => {
            let samples: Vec<u64> = Vec::new();
            let total: u64 = samples.iter().sum();
            println!("{}", total / samples.len() as u64);
        }
        "tree" => {
            let mut path = Vec::new();
            println!("{}", depth(7, &mut path));
        }
        "header" => {
            let packet = b"HDR1payload".to_vec();
            let body_start = 4;
            let body = &packet[body_start..body_start + 32];
            println!("{}", body.len());
        }
        "initials" => {
            let name = String::from("Zoë Ångström");
            println!("{}", &name[..3]);
        }
        "export" => {
            let format = args.get(2).cloned().unwrap_or_default();
            match format.as_str() {
                "csv" => println!("csv"),
                _ => todo!("export format {format}"),
            }
        }
        "pool" => {
            let queue = Arc::new(Mutex::new(vec![1_u32, 2, 3]));
            let shared = Arc::clone(&queue);
            let handle = thread::Builder::new()
                .name("drain".into())
                .spawn(move || {
                    let mut jobs = shared.lock().unwrap();
                    let job = jobs.pop().unwrap();
                    let next: Option<u32> = if job > 100 { Some(job) } else { None };
                    jobs.push(next.expect("job id out of range"));
                })
                .unwrap();
            let _ = handle.join();
            let jobs = queue.lock().unwrap();
            println!("{}", jobs.len());
        }
        "workers" => {
            let raw = std::env::var("WORKERS").unwrap_or_default();
            let workers: usize = raw.parse().expect("WORKERS must be a number");
            println!("{workers}");
        }
        other => panic!("unknown command {other:?}"),
    }
}
'''

#: name -> a broken `src/main.rs` that `rustc` refuses (every one a defect in the code)
BROKEN: dict[str, str] = {
    "rustc_mismatched_types": '''
fn retry_delay(attempt: u32) -> u64 {
    let base: u32 = 250;
    base * 2u32.pow(attempt)
}

fn main() {
    println!("{}", retry_delay(3));
}
''',
    "rustc_unresolved_name": '''
use std::collections::HashMap;

fn main() {
    let mut counts: HashMap<String, u32> = HashMap::new();
    for line in std::io::stdin().lines() {
        *counts.entry(line.unwrap()).or_insert(0) += 1;
    }
    println!("{}", count.len());
}
''',
    "rustc_use_after_move": '''
#[derive(Debug)]
struct Job {
    id: u32,
    args: Vec<String>,
}

fn submit(job: Job) {
    println!("submitting {:?}", job);
}

fn main() {
    let job = Job { id: 7, args: vec!["--dry-run".to_string()] };
    submit(job);
    println!("submitted job {}", job.id);
}
''',
    "rustc_no_method": '''
fn main() {
    let hosts = vec!["a.internal", "b.internal"];
    let joined = hosts.join_with(",");
    println!("{joined}");
}
''',
    "rustc_unresolved_import": '''
use std::collections::HashMapp;

fn main() {
    let cache: HashMapp<String, u64> = HashMapp::new();
    println!("{}", cache.len());
}
''',
    "rustc_question_in_main": '''
use std::fs;

fn main() {
    let text = fs::read_to_string("deploy.toml")?;
    println!("{text}");
}
''',
    "rustc_syntax": '''
fn parse_level(s: &str) -> u8 {
    match s {
        "debug" => 0,
        "info" => 1
        "warn" => 2,
        _ => 3,
    }
}

fn main() {
    println!("{}", parse_level("warn"));
}
''',
}


def build(env: Env) -> Path:
    """Compile the three programs into ``env.tmp/bin`` (world-readable, so `nobody` can run them); write each broken
    source into ``env.tmp/<case>/src/main.rs``. Returns the bin directory."""
    bindir = env.tmp / "bin"
    bindir.mkdir()
    os.chmod(env.tmp, 0o755)
    os.chmod(bindir, 0o755)
    for name, source in (("fetchd", FETCHD), ("opsctl", OPSCTL), ("worker", WORKER)):
        crate = env.tmp / name
        (crate / "src").mkdir(parents=True)
        (crate / "src" / "main.rs").write_text(source.lstrip())
        proc = subprocess.run([RUSTC, "--edition", "2021", "--crate-name", name, "-o", str(bindir / name),
                               "src/main.rs"], cwd=crate, capture_output=True, text=True, check=False, timeout=120)
        if proc.returncode:
            raise RuntimeError(f"building {name} failed:\n{proc.stderr}")
    for name, source in BROKEN.items():
        crate = env.tmp / name
        (crate / "src").mkdir(parents=True)
        (crate / "src" / "main.rs").write_text(source.lstrip())
    return bindir




__all__ = ["BROKEN", "RUSTC", "build"]
