"""The Go side of batch 41: one small service-style program (`b41ctl MODE`) built once with the Debian Go toolchain in
GOPATH mode (no module proxy: the standard library plus lib/pq, go-sql-driver/mysql and redigo from
/usr/share/gocode), and the broken sources whose `go build`, `go vet` and `go test` fail. Each mode of the program
does what a deploy script, a data pipeline or a service calling a service does and fails for the cause its name
says; addresses and paths reach it as `B41_*` environment variables so the same binary runs as root or as nobody."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from common import Env, run

GOPATH = Path("/usr/share/gocode")

#: the environment `go` runs with: GOPATH mode, nothing fetched, a build cache outside the repository
GO_ENV = {"GO111MODULE": "off", "GOPATH": str(GOPATH), "GOPROXY": "off", "GOFLAGS": "",
          "GOCACHE": "/tmp/recoup-corpus-gocache", "GOTOOLCHAIN": "local", "CGO_ENABLED": "0"}

GO_PROGRAM = r'''package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"github.com/gomodule/redigo/redis"
	_ "github.com/lib/pq"
)

func cfg(name string) string { return os.Getenv("B41_" + name) }

type apiError struct {
	Method, URL, Status, Body string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s %s: unexpected status %s: %s", e.Method, e.URL, e.Status, strings.TrimSpace(e.Body))
}

func call(ctx context.Context, client *http.Client, method, url string, body io.Reader) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer ci-b41-token")
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read response body: %w", err)
	}
	if resp.StatusCode >= 300 {
		return nil, &apiError{method, url, resp.Status, string(data)}
	}
	return data, nil
}

func get(path string) ([]byte, error) {
	return call(context.Background(), http.DefaultClient, "GET", cfg("HTTP")+path, nil)
}

func trusting(serverName string) *http.Client {
	pem, err := os.ReadFile(cfg("CA"))
	if err != nil {
		log.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: serverName}}}
}

type Release struct {
	Version  string `json:"version"`
	Replicas int    `json:"replicas"`
}

type Config struct {
	Endpoint string
	Retry    *struct{ Attempts int }
}

func (c *Config) attempts() int { return c.Retry.Attempts }

type registry struct {
	handlers map[string]func() error
}

func openDB(driver, dsn string) *sql.DB {
	db, err := sql.Open(driver, dsn)
	if err != nil {
		log.Fatal(err)
	}
	return db
}

func mustConn(db *sql.DB) *sql.Conn {
	conn, err := db.Conn(context.Background())
	if err != nil {
		log.Fatalf("acquire connection: %v", err)
	}
	return conn
}

func exec1(conn *sql.Conn, query string, args ...any) error {
	_, err := conn.ExecContext(context.Background(), query, args...)
	return err
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

func redisDial(port string, opts ...redis.DialOption) redis.Conn {
	c, err := redis.Dial("tcp", "127.0.0.1:"+port, opts...)
	if err != nil {
		log.Fatalf("redis: %v", err)
	}
	return c
}

func main() {
	log.SetFlags(log.LstdFlags)
	mode := os.Args[1]
	switch mode {
	// ------------------------------------------------------------------ HTTP APIs answering a failure status
	case "status401":
		if _, err := get("/status/401"); err != nil {
			log.Fatalf("deploy: fetch release manifest: %v", err)
		}
	case "status403":
		_, err := call(context.Background(), http.DefaultClient, "POST", cfg("HTTP")+"/status/403",
			strings.NewReader(`{"artifact": "api-server-1.4.2.tar.gz"}`))
		if err != nil {
			fmt.Fprintf(os.Stderr, "Error: publish artifact: %v\n", err)
			os.Exit(1)
		}
	case "status429":
		if _, err := get("/status/429?page=3"); err != nil {
			log.Fatalf("sync inventory page 3: %v", err)
		}
	case "status500":
		if _, err := call(context.Background(), http.DefaultClient, "POST", cfg("HTTP")+"/status/500",
			strings.NewReader(`{"job": "nightly-export"}`)); err != nil {
			panic(fmt.Errorf("create job: %w", err))
		}
	case "status502":
		if _, err := get("/status/502"); err != nil {
			log.Fatalf("healthcheck upstream billing: %v", err)
		}
	case "status503":
		var err error
		for attempt := 1; attempt <= 3; attempt++ {
			if _, err = get("/status/503"); err == nil {
				return
			}
			time.Sleep(time.Duration(attempt) * 50 * time.Millisecond)
		}
		log.Fatalf("giving up after 3 attempts: %v", err)
	case "status504":
		if _, err := get("/status/504"); err != nil {
			fmt.Fprintln(os.Stderr, "error: query metrics backend:", err)
			os.Exit(1)
		}
	case "response_type":
		data, err := get("/ok")
		must(err)
		var status struct {
			Detail int `json:"detail"`
		}
		if err := json.Unmarshal(data, &status); err != nil {
			log.Fatalf("decode status response: %v", err)
		}
	// ------------------------------------------------------------------ transport failures
	case "http_refused":
		url := "http://127.0.0.1:" + cfg("CLOSED") + "/hooks/deploy"
		if _, err := http.Post(url, "application/json", strings.NewReader(`{"ref": "main"}`)); err != nil {
			log.Fatalf("notify webhook: %v", err)
		}
	case "http_reset":
		if _, err := http.Get("http://127.0.0.1:" + cfg("RESET") + "/v1/objects"); err != nil {
			log.Fatalf("list objects: %v", err)
		}
	case "http_client_timeout":
		client := &http.Client{Timeout: 500 * time.Millisecond}
		url := "http://127.0.0.1:" + cfg("HANG") + "/v1/leases"
		if _, err := call(context.Background(), client, "GET", url, nil); err != nil {
			log.Fatalf("renew lease: %v", err)
		}
	case "http_ctx_deadline":
		ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
		defer cancel()
		_, err := call(ctx, http.DefaultClient, "GET", "http://127.0.0.1:"+cfg("HANG")+"/v2/catalog", nil)
		if err != nil {
			fmt.Fprintf(os.Stderr, "catalog refresh failed: %v\n", err)
			os.Exit(1)
		}
	case "http_partial_body":
		if _, err := get2("http://127.0.0.1:" + cfg("PARTIAL") + "/exports/latest.csv"); err != nil {
			log.Fatalf("download export: %v", err)
		}
	case "dns_invalid":
		if _, err := http.Get("https://artifacts.build-b41.invalid/v2/app/manifests/latest"); err != nil {
			log.Fatalf("pull manifest: %v", err)
		}
	case "tls_unknown_ca":
		client := &http.Client{Timeout: 5 * time.Second}
		if _, err := client.Get("https://127.0.0.1:" + cfg("TLS") + "/v1/secrets"); err != nil {
			log.Fatalf("read secrets: %v", err)
		}
	case "tls_wrong_name":
		if _, err := trusting("vault.internal").Get("https://127.0.0.1:" + cfg("TLS") + "/v1/sys/health"); err != nil {
			log.Fatalf("vault health: %v", err)
		}
	case "tls_client_cert":
		url := "https://127.0.0.1:" + cfg("TLS") + "/v1/token"
		if _, err := call(context.Background(), trusting("127.0.0.1"), "GET", url, nil); err != nil {
			log.Fatalf("mtls token exchange: %v", err)
		}
	// ------------------------------------------------------------------ local files
	case "config_missing":
		if _, err := os.ReadFile(cfg("MISSING")); err != nil {
			log.Fatalf("load config: %v", err)
		}
	case "write_locked":
		f, err := os.Create(filepath.Join(cfg("LOCKED"), "report.json"))
		if err != nil {
			log.Fatalf("write report: %v", err)
		}
		f.Close()
	case "write_read_only":
		if err := os.WriteFile(filepath.Join(cfg("RO"), "state.json"), []byte(`{"last": 42}`), 0o644); err != nil {
			log.Fatalf("persist checkpoint: %v", err)
		}
	case "write_full_disk":
		f, err := os.Create(filepath.Join(cfg("DISK"), "dump.bin"))
		must(err)
		chunk := make([]byte, 64*1024)
		for i := 0; i < 32; i++ {
			if _, err := f.Write(chunk); err != nil {
				log.Fatalf("write database dump: %v", err)
			}
		}
		must(f.Sync())
	case "too_many_files":
		var open []*os.File
		for i := 0; i < 200; i++ {
			f, err := os.Open(cfg("WORK"))
			if err != nil {
				log.Fatalf("open segment %d: %v", i, err)
			}
			open = append(open, f)
		}
		fmt.Println(len(open))
	case "rename_cross_device":
		src := filepath.Join(cfg("WORK"), "bundle.tar")
		must(os.WriteFile(src, []byte("bundle"), 0o644))
		if err := os.Rename(src, filepath.Join(cfg("OTHER"), "bundle.tar")); err != nil {
			log.Fatalf("promote bundle: %v", err)
		}
	case "write_directory":
		if err := os.WriteFile(cfg("WORK"), []byte("x"), 0o644); err != nil {
			log.Fatalf("save cache: %v", err)
		}
	case "exec_missing":
		out, err := exec.Command("kubectl-b41", "apply", "-f", "deploy.yaml").CombinedOutput()
		if err != nil {
			log.Fatalf("apply manifests: %v: %s", err, out)
		}
	// ------------------------------------------------------------------ bad input data
	case "json_unknown_field":
		dec := json.NewDecoder(strings.NewReader(`{"version": "1.4.2", "replica": 3}`))
		dec.DisallowUnknownFields()
		var r Release
		if err := dec.Decode(&r); err != nil {
			log.Fatalf("parse release.json: %v", err)
		}
	case "json_truncated":
		var r Release
		if err := json.Unmarshal([]byte(`{"version": "1.4.2", "replicas": `), &r); err != nil {
			log.Fatalf("parse release.json: %v", err)
		}
	case "csv_fields":
		rd := csv.NewReader(strings.NewReader("sku,qty,price\nA-1,3,9.99\nA-2,4\n"))
		if _, err := rd.ReadAll(); err != nil {
			log.Fatalf("import orders.csv: %v", err)
		}
	case "csv_quote":
		rd := csv.NewReader(strings.NewReader("name,comment\nwidget,the \"best\" one\n"))
		if _, err := rd.ReadAll(); err != nil {
			log.Fatalf("import products.csv: %v", err)
		}
	case "date_out_of_range":
		if _, err := time.Parse("2006-01-02", "2024-02-30"); err != nil {
			log.Fatalf("invalid --since: %v", err)
		}
	case "int_out_of_range":
		if _, err := strconv.ParseInt("4294967296", 10, 32); err != nil {
			log.Fatalf("invalid MAX_BATCH: %v", err)
		}
	case "xml_syntax":
		var feed struct {
			Items []string `xml:"item"`
		}
		if err := xml.Unmarshal([]byte("<feed><item>a</item><item>b</feed>"), &feed); err != nil {
			log.Fatalf("parse feed: %v", err)
		}
	// ------------------------------------------------------------------ defects in the program itself
	case "nil_map":
		var r registry
		r.handlers["deploy"] = func() error { return nil }
	case "index_range":
		parts := strings.Split("registry.local/app", ":")
		fmt.Println("tag", parts[1])
	case "nil_pointer":
		c := &Config{Endpoint: "http://127.0.0.1"}
		fmt.Println(c.attempts())
	case "close_closed":
		done := make(chan struct{})
		stop := func() { close(done) }
		stop()
		stop()
	case "send_closed":
		jobs := make(chan int, 4)
		close(jobs)
		jobs <- 1
	case "deadlock":
		results := make(chan string)
		results <- "done"
		fmt.Println(<-results)
	case "concurrent_map":
		seen := map[int]int{}
		var wg sync.WaitGroup
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; i < 1000000; i++ {
					seen[i%512] = w
				}
			}(w)
		}
		wg.Wait()
	case "iface_conversion":
		var doc map[string]any
		must(json.Unmarshal([]byte(`{"replicas": 3}`), &doc))
		n := doc["replicas"].(int)
		fmt.Println(n)
	// ------------------------------------------------------------------ PostgreSQL through lib/pq
	case "pq_unique", "pq_not_null", "pq_bad_integer", "pq_syntax":
		db := openDB("postgres", "host=127.0.0.1 port=5432 user=postgres dbname=test sslmode=disable")
		conn := mustConn(db)
		must(exec1(conn, "CREATE TEMP TABLE accounts (id serial PRIMARY KEY, email text UNIQUE NOT NULL, credits int)"))
		must(exec1(conn, "INSERT INTO accounts (email, credits) VALUES ($1, $2)", "ops@example.org", 5))
		var err error
		switch mode {
		case "pq_unique":
			err = exec1(conn, "INSERT INTO accounts (email, credits) VALUES ($1, $2)", "ops@example.org", 7)
		case "pq_not_null":
			err = exec1(conn, "INSERT INTO accounts (email, credits) VALUES ($1, $2)", nil, 7)
		case "pq_bad_integer":
			err = exec1(conn, "UPDATE accounts SET credits = $1 WHERE id = 1", "seven")
		case "pq_syntax":
			err = exec1(conn, "UPDATE accounts SET credits = credits + 1 WHERE")
		}
		if err != nil {
			log.Fatalf("store account: %v", err)
		}
	case "pq_permission":
		db := openDB("postgres", "host=127.0.0.1 port=5432 user=b41_reader dbname=test sslmode=disable")
		if _, err := db.Query("SELECT amount FROM b41_ledger"); err != nil {
			log.Fatalf("report ledger: %v", err)
		}
	case "pq_password":
		db := openDB("postgres", "postgres://app:wrong-password@127.0.0.1:"+cfg("PG")+"/postgres?sslmode=disable")
		if err := db.Ping(); err != nil {
			log.Fatalf("connect to database: %v", err)
		}
	case "pq_too_many":
		db := openDB("postgres", "postgres://app:right-password@127.0.0.1:"+cfg("PG")+"/postgres?sslmode=disable")
		for i := 0; i < 10; i++ {
			mustConn(db)
		}
	case "pq_refused":
		db := openDB("postgres", "host=127.0.0.1 port="+cfg("CLOSED")+" user=postgres dbname=test sslmode=disable")
		if err := db.Ping(); err != nil {
			log.Fatalf("migrate: %v", err)
		}
	case "pq_standby":
		dsn := "host=127.0.0.1 port=" + cfg("PG_STANDBY") + " user=postgres dbname=postgres sslmode=disable"
		db := openDB("postgres", dsn)
		if err := db.Ping(); err != nil {
			log.Fatalf("connect to replica: %v", err)
		}
	// ------------------------------------------------------------------ MariaDB through go-sql-driver/mysql
	case "my_access_denied":
		db := openDB("mysql", "b41_app:wrong-password@tcp(127.0.0.1:3306)/test")
		if err := db.Ping(); err != nil {
			log.Fatalf("open orders db: %v", err)
		}
	case "my_command_denied":
		db := openDB("mysql", "b41_app:right-b41@tcp(127.0.0.1:3306)/")
		if _, err := db.Exec("DELETE FROM test.b41_jobs WHERE id = 1"); err != nil {
			log.Fatalf("purge job: %v", err)
		}
	case "my_duplicate", "my_too_long", "my_unknown_column":
		db := openDB("mysql", "root@tcp(127.0.0.1:3306)/test")
		conn := mustConn(db)
		must(exec1(conn, "CREATE TEMPORARY TABLE users (id int PRIMARY KEY, login varchar(8) NOT NULL)"))
		must(exec1(conn, "INSERT INTO users VALUES (1, 'ops')"))
		var err error
		switch mode {
		case "my_duplicate":
			err = exec1(conn, "INSERT INTO users VALUES (?, ?)", 1, "deploy")
		case "my_too_long":
			err = exec1(conn, "INSERT INTO users VALUES (?, ?)", 2, "release-manager")
		case "my_unknown_column":
			err = exec1(conn, "UPDATE users SET last_login = NOW() WHERE id = ?", 1)
		}
		if err != nil {
			log.Fatalf("save user: %v", err)
		}
	case "my_lock_wait":
		db := openDB("mysql", "root@tcp(127.0.0.1:3306)/test")
		holder, waiter := mustConn(db), mustConn(db)
		must(exec1(holder, "BEGIN"))
		must(exec1(holder, "SELECT id FROM b41_jobs WHERE id = 1 FOR UPDATE"))
		must(exec1(waiter, "SET SESSION innodb_lock_wait_timeout = 1"))
		if err := exec1(waiter, "UPDATE b41_jobs SET state = 'running' WHERE id = 1"); err != nil {
			log.Fatalf("claim job 1: %v", err)
		}
	case "my_refused":
		db := openDB("mysql", "root@tcp(127.0.0.1:"+cfg("CLOSED")+")/test?timeout=2s")
		if err := db.Ping(); err != nil {
			log.Fatalf("open orders db: %v", err)
		}
	case "my_too_many":
		db := openDB("mysql", "b41_app:right-b41@tcp(127.0.0.1:"+cfg("MARIADB")+")/")
		for i := 0; i < 24; i++ {
			mustConn(db)
		}
	// ------------------------------------------------------------------ Redis through redigo
	case "redis_noauth":
		c := redisDial(cfg("REDIS_AUTH"))
		if _, err := c.Do("SET", "deploy:lock", "ci"); err != nil {
			log.Fatalf("take deploy lock: %v", err)
		}
	case "redis_wrongpass":
		c := redisDial(cfg("REDIS_AUTH"), redis.DialPassword("not-the-password"))
		c.Close()
	case "redis_wrongtype":
		c := redisDial(cfg("REDIS_AUTH"), redis.DialPassword(cfg("REDIS_PASSWORD")))
		_, err := c.Do("SET", "queue:emails", "paused")
		must(err)
		if _, err = c.Do("LPUSH", "queue:emails", `{"to": "ops@example.org"}`); err != nil {
			log.Fatalf("enqueue: %v", err)
		}
	case "redis_oom":
		c := redisDial(cfg("REDIS_FULL"))
		blob := strings.Repeat("x", 64*1024)
		for i := 0; i < 1000; i++ {
			if _, err := c.Do("SET", fmt.Sprintf("cache:page:%d", i), blob); err != nil {
				log.Fatalf("cache page %d: %v", i, err)
			}
		}
	case "redis_refused":
		redisDial(cfg("CLOSED"))
	case "redis_read_timeout":
		c := redisDial(cfg("HANG"), redis.DialReadTimeout(400*time.Millisecond), redis.DialConnectTimeout(time.Second))
		if _, err := c.Do("BRPOP", "jobs", 0); err != nil {
			log.Fatalf("wait for job: %v", err)
		}
	default:
		log.Fatalf("unknown mode %q", mode)
	}
}

func get2(url string) ([]byte, error) {
	return call(context.Background(), http.DefaultClient, "GET", url, nil)
}
'''

#: name -> (file name -> source) of programs that must not build, vet or test clean
BROKEN: dict[str, dict[str, str]] = {
    "undefined": {"main.go": 'package main\n\nimport "fmt"\n\nfunc main() {\n\tcfg := loadConfig()\n'
                  '\tfmt.Println(cfg.Endpoint)\n}\n'},
    "not_used": {"main.go": 'package main\n\nimport (\n\t"fmt"\n\t"os"\n\t"strings"\n)\n\nfunc main() {\n'
                 '\tname := os.Getenv("APP")\n\tfmt.Println("deploying")\n}\n'},
    "cannot_use": {"main.go": 'package main\n\nimport (\n\t"fmt"\n\t"os"\n)\n\nfunc replicas() int {\n'
                   '\treturn os.Getenv("REPLICAS")\n}\n\nfunc main() {\n\tfmt.Println(replicas())\n}\n'},
    "syntax": {"main.go": 'package main\n\nimport "fmt"\n\nfunc main() {\n\tfor i := 0; i < 3; i++ {\n'
               '\t\tfmt.Println(i)\n\t\n}\n'},
    "missing_package": {"main.go": 'package main\n\nimport (\n\t"fmt"\n\n\t"github.com/acme-b41/deployctl/manifest"\n)'
                        '\n\nfunc main() {\n\tfmt.Println(manifest.Load("app.yaml"))\n}\n'},
    "vet_printf": {"main.go": 'package main\n\nimport "fmt"\n\nfunc main() {\n\tname := "api"\n'
                   '\tfmt.Printf("deploying %d replicas of %s\\n", name)\n}\n'},
    "test_fail": {"slug.go": 'package slug\n\nimport "strings"\n\nfunc Make(s string) string {\n'
                  '\treturn strings.ReplaceAll(strings.ToLower(s), " ", "_")\n}\n',
                  "slug_test.go": 'package slug\n\nimport "testing"\n\nfunc TestMake(t *testing.T) {\n'
                  '\tif got, want := Make("Release Notes"), "release-notes"; got != want {\n'
                  '\t\tt.Errorf("Make(%q) = %q, want %q", "Release Notes", got, want)\n\t}\n}\n'},
}


def go_command(args: list[str], cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return run(["go", *args], cwd=cwd, timeout=timeout, env=GO_ENV)


def build_program(env: Env) -> Path:
    """Compile GO_PROGRAM into a directory everyone may read and execute (the nobody case runs it); return it."""
    root = Path(tempfile.mkdtemp(prefix="recoup-corpus-go41-"))
    os.chmod(root, 0o755)
    env._closers.append(lambda: shutil.rmtree(root, ignore_errors=True))
    (root / "main.go").write_text(GO_PROGRAM)
    proc = go_command(["build", "-o", "b41ctl", "main.go"], root)
    if proc.returncode:
        raise RuntimeError(f"b41ctl did not build: {proc.stderr[-2000:]}")
    return root / "b41ctl"


def write_broken(env: Env) -> dict[str, Path]:
    """One directory per broken program under the batch directory."""
    dirs: dict[str, Path] = {}
    for name, files in BROKEN.items():
        d = env.tmp / f"go41-{name}"
        d.mkdir()
        for fname, text in files.items():
            (d / fname).write_text(text)
        dirs[name] = d
    return dirs


def program_prefix(binary: Path, settings: Mapping[str, str]) -> str:
    """`env B41_...=... /path/b41ctl`: the program with its settings, for a bash command line."""
    pairs = " ".join(f"B41_{k}={v}" for k, v in settings.items())
    return f"env {pairs} {binary}"


__all__ = ["BROKEN", "GO_ENV", "GO_PROGRAM", "build_program", "go_command", "program_prefix", "write_broken"]
