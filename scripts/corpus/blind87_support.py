"""Support for the eighty-seventh batch: one Go program (b87ctl) whose modes fail through real Go libraries, built in
GOPATH mode from Debian's golang-*-dev packages (the Go module proxy is not reachable from this machine, so the
libraries are the packaged ones: pgx v4 and pgxpool, jinzhu/gorm v1 over lib/pq, sqlx over go-sql-driver/mysql,
viper, koanf, cobra, grpc-go with its health service, resty v2, go-retryablehttp, encoding/json and yaml.v3),
and the private servers its modes fail against (PostgreSQL clusters, a MariaDB server, its own gRPC server)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from common import Env, free_port, run
from servers import DEBIAN_GOPATH, _wait_port, go_env, private_mariadb, private_postgres

#: where the build lives (outside the repository): a GOPATH overlay for the `/v2` import path and the build cache
GO_ROOT = Path("/tmp/recoup-corpus-go")
_OVERLAY = GO_ROOT / "gopath"
GO_ENV = go_env(GO_ROOT)

GO_PROGRAM = r'''package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io/ioutil"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-resty/resty/v2"
	_ "github.com/go-sql-driver/mysql"
	"github.com/hashicorp/go-retryablehttp"
	"github.com/jackc/pgx/v4"
	"github.com/jackc/pgx/v4/pgxpool"
	"github.com/jinzhu/gorm"
	_ "github.com/jinzhu/gorm/dialects/postgres"
	"github.com/jmoiron/sqlx"
	"github.com/knadh/koanf"
	ktoml "github.com/knadh/koanf/parsers/toml"
	kyaml "github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/file"
	"github.com/spf13/cobra"
	"github.com/spf13/viper"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"gopkg.in/yaml.v3"
)

// ------------------------------------------------------------------ PostgreSQL through pgx v4

func pgConnect(dsn string) *pgx.Conn {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		log.Fatalf("ledger: connect to database: %v", err)
	}
	return conn
}

func pgxExec(dsn, sql string, args ...interface{}) {
	conn := pgConnect(dsn)
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), sql, args...); err != nil {
		log.Fatalf("ledger: %v", err)
	}
}

func pgxScan(dsn string) {
	conn := pgConnect(dsn)
	defer conn.Close(context.Background())
	var balance int
	row := conn.QueryRow(context.Background(), "SELECT email FROM accounts ORDER BY id LIMIT 1")
	if err := row.Scan(&balance); err != nil {
		log.Fatalf("ledger: load balance: %v", err)
	}
}

func pgxPool(dsn string) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		log.Fatal(err)
	}
	cfg.MaxConns = 2
	pool, err := pgxpool.ConnectConfig(context.Background(), cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	var held []*pgxpool.Conn
	for i := 0; i < 2; i++ {
		c, err := pool.Acquire(context.Background())
		if err != nil {
			log.Fatal(err)
		}
		held = append(held, c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if _, err := pool.Acquire(ctx); err != nil {
		st := pool.Stat()
		log.Fatalf("ledger: acquire connection from pgxpool (acquired %d of max %d, %d waiting): %v",
			st.AcquiredConns(), st.MaxConns(), st.EmptyAcquireCount(), err)
	}
}

func pgxTooMany(dsn string) {
	var conns []*pgx.Conn
	for i := 1; i <= 10; i++ {
		conn, err := pgx.Connect(context.Background(), dsn)
		if err != nil {
			log.Fatalf("worker %d: connect to database: %v", i, err)
		}
		conns = append(conns, conn)
	}
}

// ------------------------------------------------------------------ PostgreSQL through gorm v1 (lib/pq)

type Account struct {
	ID      uint `gorm:"primary_key"`
	Email   string
	Balance int
}

type Invoice struct {
	ID     uint `gorm:"primary_key"`
	Amount int
}

func gormOpen(dsn string) *gorm.DB {
	db, err := gorm.Open("postgres", dsn)
	if err != nil {
		log.Fatalf("failed to connect database: %v", err)
	}
	db.SetLogger(gorm.Logger{LogWriter: log.New(os.Stderr, "\r\n", 0)})
	return db
}

func gormCase(dsn, what string) {
	db := gormOpen(dsn)
	defer db.Close()
	var err error
	switch what {
	case "missing-table":
		var inv Invoice
		err = db.First(&inv, 7).Error
	case "unique":
		err = db.Create(&Account{Email: "ada@example.org", Balance: 10}).Error
	case "unknown-column":
		var acc Account
		err = db.Where("emial = ?", "ada@example.org").First(&acc).Error
	case "hold":
		var held []*gorm.DB
		for i := 1; i <= 10; i++ {
			extra, err := gorm.Open("postgres", dsn)
			if err != nil {
				log.Fatalf("worker %d: failed to connect database: %v", i, err)
			}
			held = append(held, extra)
		}
	}
	if err != nil {
		log.Fatalf("accounts: %v", err)
	}
}

// ------------------------------------------------------------------ MariaDB through sqlx

type Order struct {
	ID  int    `db:"id"`
	SKU string `db:"sku"`
	Qty int    `db:"qty"`
}

func sqlxCase(dsn, what string) {
	db, err := sqlx.Connect("mysql", dsn)
	if err != nil {
		log.Fatalf("orders: connect: %v", err)
	}
	defer db.Close()
	switch what {
	case "missing-destination":
		var o Order
		err = db.Get(&o, "SELECT id, sku, qty, qty * 2 AS total FROM orders ORDER BY id LIMIT 1")
	case "named-missing":
		_, err = db.NamedExec("INSERT INTO orders (sku, qty) VALUES (:sku, :qty)",
			map[string]interface{}{"sku": "KB-01"})
	case "scannable":
		var n int
		err = db.Get(&n, "SELECT id, sku FROM orders ORDER BY id LIMIT 1")
	case "duplicate":
		_, err = db.Exec("INSERT INTO orders (id, sku, qty) VALUES (?, ?, ?)", 1, "KB-01", 2)
	case "missing-table":
		var rows []Order
		err = db.Select(&rows, "SELECT id, sku, qty FROM shipments WHERE qty > ?", 0)
	case "hold":
		var held []*sqlx.Conn
		for i := 1; i <= 40; i++ {
			c, err := db.Connx(context.Background())
			if err != nil {
				log.Fatalf("orders: worker %d: %v", i, err)
			}
			if err := c.PingContext(context.Background()); err != nil {
				log.Fatalf("orders: worker %d: %v", i, err)
			}
			held = append(held, c)
		}
	}
	if err != nil {
		log.Fatalf("orders: %v", err)
	}
}

// ------------------------------------------------------------------ configuration through viper and koanf

type ServerConfig struct {
	Host string `mapstructure:"host" koanf:"host"`
	Port int    `mapstructure:"port" koanf:"port"`
}

func viperCase(what, path string) {
	v := viper.New()
	switch what {
	case "by-name":
		v.SetConfigName("billing")
		v.AddConfigPath(path)
		v.AddConfigPath("/etc/billing87")
	case "write":
		v.Set("server.port", 8080)
		if err := v.WriteConfigAs(path); err != nil {
			log.Fatalf("save config: %v", err)
		}
		return
	default:
		v.SetConfigFile(path)
	}
	if err := v.ReadInConfig(); err != nil {
		panic(fmt.Errorf("fatal error config file: %w", err))
	}
	var cfg ServerConfig
	if err := v.UnmarshalKey("server", &cfg); err != nil {
		log.Fatalf("unable to decode into struct: %v", err)
	}
}

func koanfCase(path string) {
	k := koanf.New(".")
	var parser koanf.Parser = kyaml.Parser()
	if strings.HasSuffix(path, ".toml") {
		parser = ktoml.Parser()
	}
	if err := k.Load(file.Provider(path), parser); err != nil {
		log.Fatalf("error loading config: %v", err)
	}
}

// ------------------------------------------------------------------ a CLI through cobra

func cli(args []string) {
	root := &cobra.Command{Use: "b87ctl", Short: "deploy and scale services"}
	var env string
	var replicas int
	deploy := &cobra.Command{Use: "deploy SERVICE", Short: "deploy a service", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return nil }}
	deploy.Flags().StringVar(&env, "env", "", "target environment")
	deploy.Flags().IntVarP(&replicas, "replicas", "r", 1, "number of replicas")
	_ = deploy.MarkFlagRequired("env")
	root.AddCommand(deploy)
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		os.Exit(1)
	}
}

// ------------------------------------------------------------------ gRPC through grpc-go

type healthServer struct {
	healthpb.UnimplementedHealthServer
}

func (healthServer) Check(_ context.Context, req *healthpb.HealthCheckRequest) (
	*healthpb.HealthCheckResponse, error) {
	switch req.Service {
	case "ledger.unavailable":
		return nil, status.Error(codes.Unavailable, "ledger replica is draining, try another replica")
	case "ledger.internal":
		return nil, status.Error(codes.Internal, "ledger: panic in balance handler: runtime error")
	case "ledger.denied":
		return nil, status.Error(codes.PermissionDenied, "caller svc-reports lacks role ledger.reader")
	case "ledger.quota":
		return nil, status.Error(codes.ResourceExhausted,
			"quota exceeded for consumer svc-reports: 100 requests per minute")
	case "ledger.invalid":
		return nil, status.Error(codes.InvalidArgument, "account id \"A-1042\" is not a number")
	case "ledger.slow":
		time.Sleep(3 * time.Second) // a handler that ignores its caller's deadline
	}
	return &healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING}, nil
}

func grpcServe(port string) {
	lis, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		log.Fatal(err)
	}
	s := grpc.NewServer(grpc.MaxRecvMsgSize(1024))
	healthpb.RegisterHealthServer(s, healthServer{})
	log.Fatal(s.Serve(lis))
}

func grpcCall(addr, service string, useTLS bool) {
	opt := grpc.WithInsecure()
	if useTLS {
		opt = grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{ServerName: "127.0.0.1"}))
	}
	conn, err := grpc.Dial(addr, opt)
	if err != nil {
		log.Fatalf("did not connect: %v", err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	if service == "ledger.slow" {
		ctx, cancel = context.WithTimeout(context.Background(), 300*time.Millisecond)
	}
	defer cancel()
	if service == "unimplemented" {
		out := new(healthpb.HealthCheckResponse)
		err = conn.Invoke(ctx, "/ledger.v1.Ledger/GetBalance", &healthpb.HealthCheckRequest{Service: "A-1042"}, out)
		if err != nil {
			log.Fatalf("could not get balance: %v", err)
		}
		return
	}
	if service == "large" {
		service = strings.Repeat("ledger.", 600)
	}
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: service})
	if err != nil {
		log.Fatalf("health check failed: %v", err)
	}
	log.Printf("status: %v", resp.Status)
}

// ------------------------------------------------------------------ HTTP through resty and go-retryablehttp

type apiError struct {
	Detail string `json:"detail"`
}

func restyGet(url, what string) {
	client := resty.New().SetRetryCount(2).SetRetryWaitTime(50 * time.Millisecond).
		SetRetryMaxWaitTime(100 * time.Millisecond).
		AddRetryCondition(func(r *resty.Response, err error) bool {
			return r != nil && (r.StatusCode() == http.StatusTooManyRequests || r.StatusCode() >= 500)
		})
	switch what {
	case "timeout":
		client.SetTimeout(300 * time.Millisecond)
	case "auth":
		client.SetBasicAuth("reports", "expired-password")
	}
	var out struct {
		Detail int `json:"detail"`
	}
	resp, err := client.R().SetResult(&out).SetError(&apiError{}).Get(url)
	if err != nil {
		log.Fatalf("fetch invoices: %v", err)
	}
	if resp.IsError() {
		log.Fatalf("fetch invoices: GET %s: %s (after %d attempts): %s", url, resp.Status(), resp.Request.Attempt,
			resp.String())
	}
}

func retryGet(url string) {
	client := retryablehttp.NewClient()
	client.RetryMax = 2
	client.RetryWaitMin = 50 * time.Millisecond
	client.RetryWaitMax = 100 * time.Millisecond
	client.Backoff = retryablehttp.LinearJitterBackoff
	resp, err := client.Get(url)
	if err != nil {
		log.Fatalf("sync exchange rates: %v", err)
	}
	defer resp.Body.Close()
}

// ------------------------------------------------------------------ decoding with encoding/json and yaml.v3

type OrderIn struct {
	SKU string `json:"sku" yaml:"sku"`
	Qty int    `json:"qty" yaml:"qty"`
}

type Deploy struct {
	Service  string `yaml:"service"`
	Replicas int    `yaml:"replicas"`
}

func jsonCase(what, path string) {
	data, err := ioutil.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	var o OrderIn
	switch what {
	case "strict":
		dec := json.NewDecoder(strings.NewReader(string(data)))
		dec.DisallowUnknownFields()
		err = dec.Decode(&o)
	case "marshal":
		type event struct {
			Order OrderIn
			Done  chan bool
		}
		_, err = json.Marshal(event{Order: o, Done: make(chan bool)})
	default:
		err = json.Unmarshal(data, &o)
	}
	if err != nil {
		log.Fatalf("import order from %s: %v", filepath.Base(path), err)
	}
}

func yamlCase(what, path string) {
	data, err := ioutil.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	var d Deploy
	if what == "strict" {
		dec := yaml.NewDecoder(strings.NewReader(string(data)))
		dec.KnownFields(true)
		err = dec.Decode(&d)
	} else {
		err = yaml.Unmarshal(data, &d)
	}
	if err != nil {
		log.Fatalf("load %s: %v", filepath.Base(path), err)
	}
}

// ------------------------------------------------------------------ the runtime and the os package

func runtimeCase(what string) {
	switch what {
	case "nil-map":
		var counts map[string]int
		for _, w := range strings.Fields("alpha beta alpha") {
			counts[w]++
		}
	case "index-goroutine":
		shards := []string{"s0", "s1", "s2"}
		var wg sync.WaitGroup
		for i := 0; i <= len(shards); i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				time.Sleep(time.Duration(i) * 10 * time.Millisecond)
				fmt.Println("flush", shards[i])
			}(i)
		}
		wg.Wait()
	case "nil-pointer":
		var cfg *ServerConfig
		fmt.Println("listening on port", cfg.Port)
	case "type-assertion":
		var payload interface{} = map[string]interface{}{"qty": "3"}
		qty := payload.(map[string]interface{})["qty"].(int)
		fmt.Println(qty)
	case "divide":
		total, batches := 120, len(strings.Fields(os.Getenv("B87_BATCHES")))
		fmt.Println("per batch", total/batches)
	case "concurrent-map":
		seen := map[int]int{}
		var wg sync.WaitGroup
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				for i := 0; i < 1000000; i++ {
					seen[i%1000] = g
				}
			}(g)
		}
		wg.Wait()
	}
}

func osCase(what, path string) {
	switch what {
	case "open-many":
		var files []*os.File
		for i := 0; i < 1000; i++ {
			f, err := os.Create(filepath.Join(path, "part-"+strconv.Itoa(i)+".log"))
			if err != nil {
				log.Fatalf("rotate logs: %v", err)
			}
			files = append(files, f)
		}
	case "fill":
		chunk := make([]byte, 64*1024)
		if err := ioutil.WriteFile(filepath.Join(path, "export.csv"), append(chunk, chunk...), 0o644); err != nil {
			log.Fatalf("write export: %v", err)
		}
	case "notdir":
		if _, err := os.Open(filepath.Join(path, "settings")); err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				log.Fatalf("read settings: %v", pe)
			}
			log.Fatal(err)
		}
	}
}

func main() {
	log.SetFlags(log.LstdFlags)
	a := os.Args[1:]
	switch a[0] {
	case "pgx-connect":
		pgConnect(a[1])
	case "pgx-exec":
		args := make([]interface{}, 0, len(a)-3)
		for _, s := range a[3:] {
			args = append(args, s)
		}
		pgxExec(a[1], a[2], args...)
	case "pgx-scan":
		pgxScan(a[1])
	case "pgx-pool":
		pgxPool(a[1])
	case "pgx-too-many":
		pgxTooMany(a[1])
	case "gorm-open":
		gormOpen(a[1])
	case "gorm":
		gormCase(a[1], a[2])
	case "sqlx":
		sqlxCase(a[1], a[2])
	case "viper":
		viperCase(a[1], a[2])
	case "koanf":
		koanfCase(a[1])
	case "cli":
		cli(a[1:])
	case "grpc-serve":
		grpcServe(a[1])
	case "grpc":
		grpcCall(a[1], a[2], len(a) > 3 && a[3] == "tls")
	case "resty":
		restyGet(a[1], a[2])
	case "retry":
		retryGet(a[1])
	case "json":
		jsonCase(a[1], a[2])
	case "yaml":
		yamlCase(a[1], a[2])
	case "runtime":
		runtimeCase(a[1])
	case "os":
		osCase(a[1], a[2])
	default:
		log.Fatalf("unknown mode %q", a[0])
	}
}
'''


def build_program(env: Env) -> Path:
    """Build b87ctl from GO_PROGRAM in a temporary GOPATH-mode package; return the binary."""
    overlay = _OVERLAY / "src/github.com/go-resty/resty"
    overlay.mkdir(parents=True, exist_ok=True)
    link = overlay / "v2"  # resty's import path is .../resty/v2; Debian ships it at .../resty
    if not link.exists():
        link.symlink_to(DEBIAN_GOPATH / "src/github.com/go-resty/resty")
    src = env.tmp / "b87ctl-src"
    src.mkdir()
    (src / "main.go").write_text(GO_PROGRAM)
    binary = env.tmp / "b87ctl"
    proc = run(["go", "build", "-o", str(binary), "."], cwd=src, timeout=600, env=GO_ENV)
    if proc.returncode:
        raise RuntimeError(f"b87ctl did not build: {proc.stderr[-2000:]}")
    return binary


def grpc_server(env: Env, binary: Path) -> int:
    """b87ctl's own gRPC health server on a free port (stopped with the batch)."""
    port = free_port()
    proc = subprocess.Popen([str(binary), "grpc-serve", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)

    def stop() -> None:
        proc.terminate()
        proc.wait(timeout=10)

    env._closers.append(stop)
    _wait_port(port)
    return port


def _psql(port: int, sql: str) -> None:
    proc = run(["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", "postgres", "-v",
                "ON_ERROR_STOP=1", "-c", sql])
    if proc.returncode:
        raise RuntimeError(f"postgres setup failed: {proc.stderr.strip()}")


def ledger_postgres(env: Env) -> int:
    """A private cluster with `accounts` (unique email, app may use it) and `payroll` (app may not)."""
    pg = private_postgres(env, max_connections=8, reserved=1)
    _psql(pg.port, "CREATE TABLE accounts (id serial PRIMARY KEY, email text NOT NULL UNIQUE, balance int NOT NULL);"
                   "INSERT INTO accounts (email, balance) VALUES ('ada@example.org', 120), ('bob@example.org', 40);"
                   "CREATE TABLE payroll (id serial PRIMARY KEY, employee text, salary int);"
                   "GRANT SELECT, INSERT, UPDATE ON accounts TO app; GRANT USAGE ON SEQUENCE accounts_id_seq TO app;")
    return pg.port


def tiny_postgres(env: Env) -> int:
    """A private cluster with three connection slots, one of them reserved for superusers."""
    return private_postgres(env, max_connections=3, reserved=1).port


def standby_postgres(env: Env) -> int:
    return private_postgres(env, standby=True).port


def shop_mariadb(env: Env) -> int:
    """A private MariaDB with ten connection slots (MariaDB's minimum), `shop87.orders` and a user `app`."""
    port, _ = private_mariadb(env, max_connections=10)
    sql = ("CREATE DATABASE shop87; CREATE TABLE shop87.orders (id int PRIMARY KEY, sku varchar(16) NOT NULL, "
           "qty int NOT NULL); INSERT INTO shop87.orders VALUES (1, 'KB-01', 2), (2, 'MS-07', 1);"
           "CREATE USER 'app'@'127.0.0.1' IDENTIFIED BY 'right-password';"
           "GRANT SELECT, INSERT, UPDATE ON shop87.* TO 'app'@'127.0.0.1';")
    proc = run(["mariadb", "-h", "127.0.0.1", "-P", str(port), "-u", "root", "-e", sql])
    if proc.returncode:
        raise RuntimeError(f"mariadb setup failed: {proc.stderr.strip()}")
    return port


def write_inputs(env: Env) -> Path:
    """The files the config and decoding modes read: broken configs, orders and deploy manifests."""
    root = env.tmp / "inputs"
    root.mkdir()
    files = {
        "config-yaml/app.yaml": "server:\n  host: 127.0.0.1\n  port: 8080\n   timeout: 5s\ndatabase:\n  url: x\n",
        "config-toml/app.toml": "[server]\nhost = \"127.0.0.1\"\nport = 8080\n[database\nurl = \"x\"\n",
        "config-type/app.yaml": "server:\n  host: 127.0.0.1\n  port: eighty\n",
        "koanf-yaml/app.yaml": "server:\n  host: 127.0.0.1\n  - port: 8080\n",
        "koanf-toml/app.toml": "[server]\nhost = 127.0.0.1\nport = 8080\n",
        "by-name/README": "configuration lives in billing.yaml\n",
        "orders/syntax.json": '{"sku": "KB-01", "qty": 3,}\n',
        "orders/type.json": '{"sku": "KB-01", "qty": "three"}\n',
        "orders/unknown.json": '{"sku": "KB-01", "quantity": 3}\n',
        "orders/ok.json": '{"sku": "KB-01", "qty": 3}\n',
        "deploy/syntax.yaml": "service: api\nreplicas: 3\nimage: registry/api:1.4\n  tag: latest\n",
        "deploy/type.yaml": "service: api\nreplicas: three\n",
        "deploy/unknown.yaml": "service: api\nreplicaz: 3\n",
        "notdir/config.json": "{}\n",
    }
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


__all__ = ["GO_ENV", "GO_PROGRAM", "build_program", "grpc_server", "ledger_postgres", "shop_mariadb",
           "standby_postgres", "tiny_postgres", "write_inputs"]
