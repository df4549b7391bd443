"""Fixtures of the hundred-and-twenty-ninth batch: `fleetsync`, a small Rust command-line program built offline
against Debian's packaged crates (ureq, serde_json, toml, clap, rusqlite; `cargo` reads the Debian registry
/usr/share/cargo/registry through a [source] replacement), a full and a read-only tmpfs, broken configuration and
inventory files, a SQLite cache, an HTTP server answering malformed JSON and a TLS server with an untrusted
certificate.

Needs: `apt-get install cargo librust-ureq-dev librust-serde-json-dev librust-toml-dev librust-clap-dev
librust-rusqlite-dev` (any cargo/rustc that can build these crates)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from common import Env
from servers import accept_loop, mount_tmpfs, tls_server

#: where the program is built (kept between runs: the first build takes a few minutes on 2 cores)
BUILD_ROOT = Path("/tmp/recoup-corpus-129-rs")
BINARY = BUILD_ROOT / "target" / "debug" / "fleetsync"

CARGO_TOML = """[package]
name = "fleetsync"
version = "0.3.1"
edition = "2021"

[dependencies]
ureq = { version = "2", features = ["json"] }
serde = { version = "1", features = ["derive"] }
serde_json = "1"
toml = "0.5"
clap = { version = "4", features = ["derive"] }
rusqlite = "0.28"
"""

CARGO_CONFIG = """[source.crates-io]
replace-with = "debian"

[source.debian]
directory = "/usr/share/cargo/registry"

[net]
offline = true
"""

MAIN_RS = r"""use clap::{Parser, Subcommand};
use serde::Deserialize;
use std::collections::HashMap;
use std::error::Error;
use std::io::Write;
use std::time::Duration;

#[derive(Parser)]
#[command(name = "fleetsync", version, about = "Sync device inventory between the fleet API and the local cache")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// GET a URL from the fleet API and print the body
    Fetch {
        #[arg(long)]
        url: String,
        #[arg(long, default_value_t = 3000)]
        timeout_ms: u64,
        #[arg(long)]
        token: Option<String>,
        #[arg(long)]
        user: Option<String>,
        #[arg(long)]
        json: bool,
        #[arg(long)]
        save: Option<String>,
        #[arg(long)]
        report_style: bool,
    },
    /// open many connections at once (prefetch)
    Prefetch {
        #[arg(long)]
        url: String,
        #[arg(long, default_value_t = 64)]
        count: usize,
    },
    /// load a config file
    Config {
        #[arg(long)]
        file: String,
    },
    /// parse an inventory JSON export
    Inventory {
        #[arg(long)]
        file: String,
        #[arg(long, default_value = "summary")]
        mode: String,
    },
    /// sqlite cache operations
    Cache {
        #[arg(long)]
        db: String,
        #[arg(long)]
        op: String,
        #[arg(long, default_value_t = 0)]
        rows: u32,
    },
    /// rotate the local state
    Rotate {
        #[arg(long, value_parser = clap::value_parser!(u16).range(1..=512))]
        keep: u16,
        #[arg(long, value_enum)]
        compress: Option<Compress>,
        #[arg(long)]
        state_dir: String,
    },
}

#[derive(Clone, clap::ValueEnum)]
enum Compress {
    Gzip,
    Zstd,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct Config {
    api: Api,
    cache: CacheCfg,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct Api {
    base_url: String,
    timeout_secs: u32,
    regions: Vec<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct CacheCfg {
    path: String,
    max_rows: u32,
}

#[derive(Deserialize, Debug)]
struct Device {
    serial: String,
    site: String,
    firmware: String,
    uptime_days: u8,
}

#[derive(Deserialize, Debug)]
struct Export {
    generated_at: String,
    devices: Vec<Device>,
}

fn fetch(url: &str, timeout_ms: u64, token: Option<String>, user: Option<String>, json: bool,
         save: Option<String>) -> Result<(), Box<dyn Error>> {
    let agent = ureq::AgentBuilder::new().timeout(Duration::from_millis(timeout_ms)).build();
    let mut req = agent.get(url).set("User-Agent", "fleetsync/0.3.1");
    if let Some(t) = token {
        req = req.set("Authorization", &format!("Bearer {t}"));
    }
    if let Some(u) = user {
        let (name, pass) = u.split_once(':').unwrap_or((&u, ""));
        let b = base64_basic(name, pass);
        req = req.set("Authorization", &format!("Basic {b}"));
    }
    let resp = req.call()?;
    if json {
        let v: serde_json::Value = resp.into_json()?;
        println!("{}", v);
    } else if let Some(path) = save {
        let mut f = std::fs::File::create(&path)?;
        let mut reader = resp.into_reader();
        std::io::copy(&mut reader, &mut f)?;
        f.sync_all()?;
    } else {
        println!("{}", resp.into_string()?);
    }
    Ok(())
}

fn base64_basic(user: &str, pass: &str) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let data = format!("{user}:{pass}").into_bytes();
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = ((b[0] as u32) << 16) | ((b[1] as u32) << 8) | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn prefetch(url: &str, count: usize) -> Result<(), Box<dyn Error>> {
    let mut held = Vec::new();
    for i in 0..count {
        let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(3)).build();
        let resp = agent.get(&format!("{url}?page={i}")).call()?;
        held.push((agent, resp));
    }
    println!("prefetched {}", held.len());
    Ok(())
}

fn inventory(file: &str, mode: &str) -> Result<(), Box<dyn Error>> {
    let raw = std::fs::read_to_string(file)?;
    match mode {
        "summary" => {
            let export: Export = serde_json::from_str(&raw)?;
            let mut per_site: HashMap<String, u32> = HashMap::new();
            for d in &export.devices {
                *per_site.entry(d.site.clone()).or_default() += 1;
            }
            println!("{} devices at {} sites ({}), first fw {}", export.devices.len(), per_site.len(),
                     export.generated_at, export.devices[0].firmware);
        }
        "value" => {
            let v: serde_json::Value = serde_json::from_str(&raw)?;
            let owner = v["devices"][0]["owner"].as_str().unwrap();
            println!("owner {owner}");
        }
        "pick" => {
            let export: Export = serde_json::from_str(&raw)?;
            let idx = export.devices.len() + 2;
            println!("pick {}", export.devices[idx].serial);
        }
        "uptime" => {
            let export: Export = serde_json::from_str(&raw)?;
            let mut total: u8 = 0;
            for d in &export.devices {
                total += d.uptime_days;
            }
            println!("total uptime {total}");
        }
        "expect" => {
            let v: serde_json::Value = serde_json::from_str(&raw)?;
            let site = v.get("site_code").and_then(|s| s.as_str()).expect("inventory export has a site_code");
            println!("site {site}");
        }
        "average" => {
            let export: Export = serde_json::from_str(&raw)?;
            let online: Vec<&Device> = export.devices.iter().filter(|d| d.firmware.starts_with("9.")).collect();
            let sum: usize = online.iter().map(|d| d.uptime_days as usize).sum();
            println!("average {}", sum / online.len());
        }
        other => return Err(format!("unknown mode {other}").into()),
    }
    Ok(())
}

fn cache(db: &str, op: &str, rows: u32) -> Result<(), Box<dyn Error>> {
    let conn = rusqlite::Connection::open(db)?;
    match op {
        "init" => {
            conn.execute_batch("CREATE TABLE IF NOT EXISTS devices (serial TEXT PRIMARY KEY, site TEXT NOT NULL, \
                                firmware TEXT, payload BLOB)")?;
        }
        "fill" => {
            conn.execute_batch("CREATE TABLE IF NOT EXISTS devices (serial TEXT PRIMARY KEY, site TEXT NOT NULL, \
                                firmware TEXT, payload BLOB)")?;
            let tx = conn.unchecked_transaction()?;
            for i in 0..rows {
                tx.execute("INSERT INTO devices (serial, site, firmware, payload) VALUES (?1, ?2, ?3, ?4)",
                           rusqlite::params![format!("FX-{i:08}"), "ams3", "9.2.1", vec![7u8; 4096]])?;
            }
            tx.commit()?;
        }
        "insert" => {
            conn.execute("INSERT INTO devices (serial, site, firmware) VALUES (?1, ?2, ?3)",
                         rusqlite::params!["FX-00000042", "fra1", "9.1.0"])?;
        }
        "insert-null" => {
            conn.execute("INSERT INTO devices (serial, site, firmware) VALUES (?1, ?2, ?3)",
                         rusqlite::params!["FX-00000043", Option::<String>::None, "9.1.0"])?;
        }
        "params" => {
            conn.execute("INSERT INTO devices (serial, site, firmware) VALUES (?1, ?2, ?3)",
                         rusqlite::params!["FX-00000044", "fra1"])?;
        }
        "syntax" => {
            conn.execute("UPDATE devices SET firmware = ?1 WHER serial = ?2", rusqlite::params!["9.3.0", "FX-1"])?;
        }
        "column" => {
            let n: i64 = conn.query_row("SELECT serial, site FROM devices LIMIT 1", [], |r| r.get(3))?;
            println!("{n}");
        }
        "type" => {
            let n: i64 = conn.query_row("SELECT serial FROM devices LIMIT 1", [], |r| r.get(0))?;
            println!("{n}");
        }
        "one" => {
            let s: String = conn.query_row("SELECT serial FROM devices WHERE site = ?1", ["zzz9"], |r| r.get(0))?;
            println!("{s}");
        }
        "busy" => {
            conn.busy_timeout(Duration::from_millis(300))?;
            conn.execute("INSERT INTO devices (serial, site, firmware) VALUES ('FX-BUSY', 'ams3', '9.0.0')", [])?;
        }
        "count" => {
            let n: i64 = conn.query_row("SELECT count(*) FROM devices", [], |r| r.get(0))?;
            println!("{n}");
        }
        other => return Err(format!("unknown op {other}").into()),
    }
    Ok(())
}

fn load_config(file: &str) -> Result<Config, Box<dyn Error>> {
    let raw = std::fs::read_to_string(file)?;
    let cfg: Config = toml::from_str(&raw)?;
    Ok(cfg)
}

fn rotate(keep: u16, state_dir: &str) -> Result<(), Box<dyn Error>> {
    let mut entries: Vec<_> = std::fs::read_dir(state_dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    let marker = format!("{state_dir}/.rotated");
    let mut f = std::fs::File::create(marker)?;
    writeln!(f, "kept {keep}")?;
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Fetch { url, timeout_ms, token, user, json, save, report_style } => {
            if report_style {
                if let Err(e) = fetch(&url, timeout_ms, token, user, json, save) {
                    eprintln!("fleetsync: fetch {url} failed: {e}");
                    let mut src = e.source();
                    while let Some(s) = src {
                        eprintln!("  caused by: {s}");
                        src = s.source();
                    }
                    std::process::exit(2);
                }
            } else {
                fetch(&url, timeout_ms, token, user, json, save)?;
            }
        }
        Cmd::Prefetch { url, count } => prefetch(&url, count)?,
        Cmd::Config { file } => {
            let cfg = load_config(&file)?;
            println!("{cfg:?}");
        }
        Cmd::Inventory { file, mode } => inventory(&file, &mode)?,
        Cmd::Cache { db, op, rows } => cache(&db, &op, rows)?,
        Cmd::Rotate { keep, compress: _, state_dir } => rotate(keep, &state_dir)?,
    }
    Ok(())
}
"""


def build_fleetsync() -> Path:
    """Write the crate and build it (debug profile: integer overflow panics) unless the sources are unchanged."""
    crate = BUILD_ROOT / "fleetsync"
    (crate / "src").mkdir(parents=True, exist_ok=True)
    (crate / ".cargo").mkdir(exist_ok=True)
    changed = False
    for path, text in ((crate / "Cargo.toml", CARGO_TOML), (crate / ".cargo" / "config.toml", CARGO_CONFIG),
                       (crate / "src" / "main.rs", MAIN_RS)):
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            changed = True
    if changed or not BINARY.exists():
        subprocess.run(["cargo", "build", "--quiet"], cwd=crate, check=True, capture_output=True, timeout=1500,
                       env=dict(os.environ, CARGO_TARGET_DIR=str(BUILD_ROOT / "target")))
    return BINARY


@dataclass
class Fixtures:
    """Paths and ports of the batch's fixtures."""

    root: Path
    full: Path
    nearly_full: Path
    ro: Path
    bad_json_port: int
    tls_port: int


_DEVICES = [{"serial": f"FX-{i:08}", "site": ("ams3", "fra1", "lon2")[i % 3], "firmware": "9.2.1",
             "uptime_days": 90 + i} for i in range(6)]


def _write_files(root: Path) -> None:
    etc = root / "etc" / "fleetsync"
    etc.mkdir(parents=True)
    good_api = ('base_url = "https://fleet-api.ops.internal/v2"\ntimeout_secs = 30\n'
                'regions = ["eu-west", "eu-central"]\n')
    good_cache = '[cache]\npath = "/var/lib/fleetsync/cache.sqlite3"\nmax_rows = 250000\n'
    (etc / "syntax.toml").write_text('[api]\nbase_url = "https://fleet-api.ops.internal/v2\ntimeout_secs = 30\n')
    (etc / "missing-field.toml").write_text('[api]\nbase_url = "https://fleet-api.ops.internal/v2"\n'
                                            'regions = ["eu-west"]\n\n' + good_cache)
    (etc / "unknown-key.toml").write_text("[api]\n" + good_api + "retries = 5\n\n" + good_cache)
    (etc / "wrong-type.toml").write_text('[api]\nbase_url = "https://fleet-api.ops.internal/v2"\n'
                                         'timeout_secs = "30s"\nregions = ["eu-west"]\n\n' + good_cache)
    (etc / "duplicate.toml").write_text("[api]\n" + good_api + "timeout_secs = 45\n\n" + good_cache)
    (etc / "negative.toml").write_text("[api]\n" + good_api + "\n" + good_cache.replace("250000", "-1"))
    (etc / "latin1.toml").write_bytes(b'[api]\nbase_url = "https://fleet-api.ops.internal/v2"\n# Zone: M\xfcnchen\n')
    (etc / "conf.d").mkdir()
    exports = root / "exports"
    exports.mkdir()
    good = {"generated_at": "2026-11-29T06:00:00Z", "devices": _DEVICES}
    (exports / "inventory-good.json").write_text(json.dumps(good))
    (exports / "inventory-syntax.json").write_text(json.dumps(good)[:180] + ',, "site": "ams3"}]}')
    (exports / "inventory-truncated.json").write_text(json.dumps(good)[:-40])
    bad_type = json.loads(json.dumps(good))
    bad_type["devices"][2]["uptime_days"] = "97"
    (exports / "inventory-type.json").write_text(json.dumps(bad_type))
    missing = json.loads(json.dumps(good))
    del missing["devices"][4]["firmware"]
    (exports / "inventory-missing.json").write_text(json.dumps(missing))
    big = json.loads(json.dumps(good))
    big["devices"][1]["uptime_days"] = 731
    (exports / "inventory-range.json").write_text(json.dumps(big))
    (exports / "inventory-empty.json").write_text(json.dumps({"generated_at": "2026-11-29T06:00:00Z", "devices": []}))
    huge = {"generated_at": "2026-11-29T06:00:00Z",
            "devices": [{"serial": f"FX-{i:08}", "site": "ams3", "firmware": "9.2.1", "uptime_days": 3}
                        for i in range(400000)]}
    (exports / "inventory-full-2026.json").write_text(json.dumps(huge))
    (exports / "index.html").write_text("<html><body>Fleet export</body></html>\n")


def _bad_json_server(env: Env) -> int:
    body = b'{"devices": [{"serial": "FX-00000001", "site": "ams3",}], "next": null'

    def answer(conn: socket.socket) -> None:
        conn.settimeout(2)
        try:
            conn.recv(4096)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                         + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
        except OSError:
            pass
        conn.close()

    return accept_loop(env, answer)


def prepare(env: Env) -> Fixtures:
    root = env.tmp / "fleet129"
    root.mkdir()
    _write_files(root)
    full = mount_tmpfs(env, "full129", "size=64k")
    try:
        with (full / "filler.bin").open("wb") as filler:
            while True:
                filler.write(b"\0" * 4096)
                filler.flush()
    except OSError:
        pass
    nearly_full = mount_tmpfs(env, "nearly-full129", "size=64k")
    (nearly_full / "filler.bin").write_bytes(b"\0" * 56 * 1024)
    ro = mount_tmpfs(env, "ro129", "size=512k")
    (ro / "cache").mkdir()
    subprocess.run([str(BINARY), "cache", "--db", str(ro / "cache" / "devices.sqlite3"), "--op", "fill", "--rows",
                    "3"], check=True, capture_output=True)
    subprocess.run(["mount", "-o", "remount,ro", str(ro)], check=True, capture_output=True)
    return Fixtures(root, full, nearly_full, ro, _bad_json_server(env), tls_server(env, "localhost").port)
