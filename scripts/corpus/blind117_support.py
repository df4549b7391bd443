"""Support for the hundred-and-seventeenth batch: one Go program (opsctl) whose modes fail through Go libraries the
corpus had not seen, built in GOPATH mode from Debian's golang-*-dev packages (the Go module proxy is not reachable
from this machine): gorilla/websocket, gin, echo v4 (Logger, Recover, JWT, BasicAuth, RateLimiter and Proxy
middleware), minio-go v6 against a fake S3 in the same process answering S3 XML errors, nats.go against a private
nats-server, logrus and zap writing to files, afero, pelletier/go-toml, go-playground/validator v10 and
armon/consul-api against a fake Consul agent in the same process; plus the private nats-server, a full and a
read-only tmpfs and the config files the modes read."""

from __future__ import annotations

import contextlib
import subprocess
from dataclasses import dataclass
from pathlib import Path

from common import Env, free_port, run
from servers import DEBIAN_GOPATH, _wait_port, go_env, mount_tmpfs

#: where the build lives (outside the repository): a GOPATH overlay (for the `/v4` and `/v6` import paths and the
#: program's own package) and the build cache
GO_ROOT = Path("/tmp/recoup-corpus-go117")
_OVERLAY = GO_ROOT / "gopath"
_PACKAGE = "git.corp.example.com/platform/opsctl"
GO_ENV = go_env(GO_ROOT)

GO_PROGRAM = r'''package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/armon/consul-api"
	"github.com/dgrijalva/jwt-go"
	"github.com/gin-gonic/gin"
	"github.com/go-playground/validator/v10"
	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/minio/minio-go/v6"
	"github.com/nats-io/nats.go"
	"github.com/pelletier/go-toml"
	"github.com/sirupsen/logrus"
	"github.com/spf13/afero"
	"go.uber.org/zap"
	"golang.org/x/time/rate"
)

// ------------------------------------------------------------------ gorilla/websocket

func wsServe(handler http.HandlerFunc) string {
	srv := httptest.NewServer(handler)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

var upgrader = websocket.Upgrader{ReadBufferSize: 4096, WriteBufferSize: 4096}

func wsCloseWith(code int, reason string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		conn.ReadMessage()
		msg := websocket.FormatCloseMessage(code, reason)
		conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
		time.Sleep(200 * time.Millisecond)
	}
}

func wsDial(target string) *websocket.Conn {
	dialer := websocket.Dialer{HandshakeTimeout: 3 * time.Second}
	auth := http.Header{"Authorization": {"Bearer eyJhbGciOiJIUzI1NiJ9.c2Vzc2lvbg"}}
	conn, resp, err := dialer.Dial(target, auth)
	if err != nil {
		if resp != nil {
			log.Fatalf("ticker: dial %s: %v (HTTP %s)", target, err, resp.Status)
		}
		log.Fatalf("ticker: dial %s: %v", target, err)
	}
	return conn
}

func wsCase(what, arg string) {
	log.SetPrefix("ticker-feed ")
	switch what {
	case "dial":
		wsDial(arg)
	case "close-1011":
		conn := wsDial(wsServe(wsCloseWith(websocket.CloseInternalServerErr, "upstream quote store unavailable")))
		conn.WriteMessage(websocket.TextMessage, []byte(`{"op":"subscribe","symbols":["AAPL","MSFT"]}`))
		if _, _, err := conn.ReadMessage(); err != nil {
			log.Fatalf("ticker: read quote stream: %v", err)
		}
	case "close-1008":
		conn := wsDial(wsServe(wsCloseWith(websocket.ClosePolicyViolation, "session token expired")))
		conn.WriteMessage(websocket.TextMessage, []byte(`{"op":"subscribe","symbols":["EURUSD"]}`))
		if _, _, err := conn.ReadMessage(); err != nil {
			log.Fatalf("ticker: read quote stream: %v", err)
		}
	case "concurrent-write":
		conn := wsDial(wsServe(func(w http.ResponseWriter, r *http.Request) {
			c, err := upgrader.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					return
				}
			}
		}))
		payload := bytes.Repeat([]byte(`{"symbol":"AAPL","bid":189.21,"ask":189.23}`), 2000)
		var wg sync.WaitGroup
		for i := 0; i < 16; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := 0; j < 200; j++ {
					conn.WriteMessage(websocket.TextMessage, payload)
				}
			}()
		}
		wg.Wait()
	case "write-after-close":
		conn := wsDial(wsServe(func(w http.ResponseWriter, r *http.Request) {
			c, err := upgrader.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			c.ReadMessage()
		}))
		conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye"))
		unsub := []byte(`{"op":"unsubscribe","symbols":["AAPL"]}`)
		if err := conn.WriteMessage(websocket.TextMessage, unsub); err != nil {
			log.Fatalf("ticker: unsubscribe: %v", err)
		}
	case "origin":
		strict := websocket.Upgrader{CheckOrigin: func(r *http.Request) bool {
			return r.Header.Get("Origin") == "https://trade.example.com"
		}}
		logger := log.New(os.Stderr, "quote-gateway ", log.LstdFlags)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, err := strict.Upgrade(w, r, nil); err != nil {
				logger.Printf("upgrade %s from %s: %v", r.URL.Path, r.RemoteAddr, err)
			}
		}))
		dialer := websocket.Dialer{HandshakeTimeout: 3 * time.Second}
		_, resp, err := dialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/v2/quotes",
			http.Header{"Origin": {"https://evil-mirror.example.net"}})
		if err != nil {
			logger.Printf("client: %v (HTTP %s)", err, resp.Status)
			os.Exit(1)
		}
	}
}

// ------------------------------------------------------------------ gin

type SignupRequest struct {
	Email    string `json:"email" binding:"required,email"`
	Password string `json:"password" binding:"required,min=12"`
	Plan     string `json:"plan" binding:"oneof=free team enterprise"`
}

type User struct {
	ID    int
	Email string
}

func serveAndCall(h http.Handler, method, path, contentType string, body io.Reader,
	header map[string]string) int {
	srv := httptest.NewServer(h)
	defer srv.Close()
	req, _ := http.NewRequest(method, srv.URL+path, body)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatalf("client: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func ginCase(what, arg string) {
	gin.SetMode(gin.ReleaseMode)
	gin.DefaultWriter = os.Stderr
	gin.DefaultErrorWriter = os.Stderr
	r := gin.Default()
	api := r.Group("/api/v1")
	var method, path, ctype string
	var body io.Reader
	switch what {
	case "nil-map":
		api.POST("/carts/:id/items", func(c *gin.Context) {
			var totals map[string]int
			totals[c.Param("id")] += 3
			c.JSON(200, totals)
		})
		method, path = "POST", "/api/v1/carts/8812/items"
	case "index":
		api.GET("/orders/:id/shipment", func(c *gin.Context) {
			parcels := []string{}
			c.JSON(200, gin.H{"tracking": parcels[0]})
		})
		method, path = "GET", "/api/v1/orders/5521/shipment"
	case "type-assert":
		api.Use(func(c *gin.Context) { c.Set("user", "ada@example.org"); c.Next() })
		api.GET("/me", func(c *gin.Context) {
			u := c.MustGet("user").(*User)
			c.JSON(200, u)
		})
		method, path = "GET", "/api/v1/me"
	case "must-get":
		api.GET("/invoices", func(c *gin.Context) {
			tenant := c.MustGet("tenant").(string)
			c.JSON(200, gin.H{"tenant": tenant})
		})
		method, path = "GET", "/api/v1/invoices?month=2026-10"
	case "bad-json":
		api.POST("/signup", func(c *gin.Context) {
			var req SignupRequest
			if err := c.ShouldBindJSON(&req); err != nil {
				c.AbortWithError(400, err)
				return
			}
		})
		method, path, ctype = "POST", "/api/v1/signup", "application/json"
		body = strings.NewReader(`{"email": "ada@example.org", "password": "hunter2hunter2", "plan": "team",}`)
	case "binding":
		api.POST("/signup", func(c *gin.Context) {
			var req SignupRequest
			if err := c.ShouldBindJSON(&req); err != nil {
				c.AbortWithError(422, err)
				return
			}
		})
		method, path, ctype = "POST", "/api/v1/signup", "application/json"
		body = strings.NewReader(`{"email": "ada(at)example.org", "password": "hunter2", "plan": "gold"}`)
	case "templates":
		r.LoadHTMLGlob(arg + "/*.tmpl")
		return
	case "upload":
		api.POST("/avatars", func(c *gin.Context) {
			file, err := c.FormFile("avatar")
			if err != nil {
				c.AbortWithError(400, err)
				return
			}
			if err := c.SaveUploadedFile(file, filepath.Join(arg, "u-4471.png")); err != nil {
				c.AbortWithError(500, err)
				return
			}
		})
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		fw, _ := mw.CreateFormFile("avatar", "me.png")
		fw.Write(bytes.Repeat([]byte{0x89, 'P', 'N', 'G'}, 64*1024))
		mw.Close()
		method, path, ctype, body = "POST", "/api/v1/avatars", mw.FormDataContentType(), &buf
	}
	if status := serveAndCall(r, method, path, ctype, body, nil); status >= 400 {
		os.Exit(1)
	}
}

// ------------------------------------------------------------------ echo

func echoCase(what, arg string) {
	e := echo.New()
	e.HideBanner = true
	e.Logger.SetOutput(os.Stderr)
	e.Use(middleware.Logger())
	e.Use(middleware.Recover())
	var method, path, ctype string
	var body io.Reader
	header := map[string]string{}
	switch what {
	case "nil-pointer":
		e.GET("/reports/:id", func(c echo.Context) error {
			var u *User
			return c.String(200, u.Email)
		})
		method, path = "GET", "/reports/2026-q3"
	case "bad-json":
		e.POST("/webhooks/stripe", func(c echo.Context) error {
			var payload map[string]interface{}
			if err := c.Bind(&payload); err != nil {
				return err
			}
			return c.NoContent(204)
		})
		method, path, ctype = "POST", "/webhooks/stripe", "application/json"
		body = strings.NewReader(`{"id": "evt_1Nx", "type": "invoice.paid",
  "data": {"object": {"amount_paid": 4200,}}`)
	case "missing-file":
		e.GET("/exports/:name", func(c echo.Context) error {
			data, err := os.ReadFile(filepath.Join(arg, "exports", c.Param("name")))
			if err != nil {
				return err
			}
			return c.Blob(200, "text/csv", data)
		})
		method, path = "GET", "/exports/customers-2026-11.csv"
	case "jwt-expired":
		key := []byte("9f1c2e7a-reporting-signing-key")
		g := e.Group("/admin", middleware.JWT(key))
		g.GET("/metrics", func(c echo.Context) error { return c.String(200, "ok") })
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
			"sub": "ops@example.com", "exp": time.Now().Add(-2 * time.Hour).Unix()})
		signed, _ := tok.SignedString(key)
		method, path = "GET", "/admin/metrics"
		header["Authorization"] = "Bearer " + signed
	case "basic-auth":
		g := e.Group("/internal", middleware.BasicAuth(func(u, p string, c echo.Context) (bool, error) {
			return u == "deploy" && p == "correct-horse-battery", nil
		}))
		g.POST("/deploy", func(c echo.Context) error { return c.NoContent(202) })
		method, path = "POST", "/internal/deploy"
		header["Authorization"] = "Basic ZGVwbG95OndpbnRlcjIwMjY="
	case "rate-limit":
		e.Use(middleware.RateLimiter(middleware.NewRateLimiterMemoryStoreWithConfig(
			middleware.RateLimiterMemoryStoreConfig{Rate: rate.Limit(1), Burst: 2, ExpiresIn: time.Minute})))
		e.GET("/search", func(c echo.Context) error { return c.String(200, "[]") })
		srv := httptest.NewServer(e)
		for i := 0; i < 4; i++ {
			resp, err := http.Get(srv.URL + "/search?q=invoice")
			if err != nil {
				log.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode >= 400 {
				log.Fatalf("search-client: GET /search?q=invoice: %s: %s", resp.Status, bytes.TrimSpace(body))
			}
		}
		return
	case "proxy":
		target, _ := url.Parse(arg)
		e.Group("/billing", middleware.Proxy(middleware.NewRoundRobinBalancer(
			[]*middleware.ProxyTarget{{Name: "billing-1", URL: target}})))
		method, path = "GET", "/billing/invoices/INV-20931"
	}
	if status := serveAndCall(e, method, path, ctype, body, header); status >= 400 {
		os.Exit(1)
	}
}

// ------------------------------------------------------------------ minio-go against a fake S3

const s3ErrorXML = `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>%s</Code><Message>%s</Message><Key>%s</Key><BucketName>%s</BucketName>` +
	`<Resource>%s</Resource><RequestId>17A3C2F0B9E1D4C8</RequestId>` +
	`<HostId>dd9025bab4ad464b049177c95eb6ebf374d3b3fd1af9251148b658df7ac2e3e8</HostId></Error>`

func fakeS3(status int, code, message string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Server", "MinIO")
		w.Header().Set("X-Amz-Request-Id", "17A3C2F0B9E1D4C8")
		if status == 200 {
			data := bytes.Repeat([]byte("2026-11-29T08:15:00Z,checkout,ok\n"), 4096)
			w.Header().Set("Content-Length", fmt.Sprint(len(data)))
			w.Header().Set("Last-Modified", time.Now().UTC().Format(http.TimeFormat))
			w.Header().Set("ETag", `"9b2cf535f27731c974343645a3985328"`)
			w.Header().Set("Content-Type", "text/csv")
			if r.Method != http.MethodHead {
				w.Write(data)
			}
			return
		}
		parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 2)
		key := ""
		if len(parts) == 2 {
			key = parts[1]
		}
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		fmt.Fprintf(w, s3ErrorXML, code, message, key, parts[0], r.URL.Path)
	}))
	return strings.TrimPrefix(srv.URL, "http://")
}

func s3Client(endpoint string) *minio.Client {
	minio.MaxRetry = 1
	c, err := minio.NewWithRegion(endpoint, "backup-agent", "fI6Kq2v9Wz4pL0sT8xNm3RbY7cJd", false, "us-east-1")
	if err != nil {
		log.Fatalf("s3: %v", err)
	}
	c.SetCustomTransport(&http.Transport{ResponseHeaderTimeout: 2 * time.Second, DialContext: (&net.Dialer{
		Timeout: 2 * time.Second}).DialContext})
	return c
}

func s3Fail(op, bucket, object string, err error) {
	resp := minio.ToErrorResponse(err)
	if resp.Code != "" {
		log.Fatalf("backup: %s s3://%s/%s: %v (code=%s, status=%d, request id=%s)", op, bucket, object, err,
			resp.Code, resp.StatusCode, resp.RequestID)
	}
	log.Fatalf("backup: %s s3://%s/%s: %v", op, bucket, object, err)
}

func s3Case(what, arg, arg2 string) {
	log.SetFlags(log.LstdFlags)
	bucket, object := "nightly-backups", "pg/ledger/2026-11-29T0300Z.dump.gz"
	put := func(endpoint string) {
		c := s3Client(endpoint)
		data := bytes.Repeat([]byte("PGDMP"), 2048)
		if _, err := c.PutObject(bucket, object, bytes.NewReader(data), int64(len(data)),
			minio.PutObjectOptions{ContentType: "application/gzip"}); err != nil {
			s3Fail("upload", bucket, object, err)
		}
	}
	switch what {
	case "error":
		var status int
		fmt.Sscan(arg, &status)
		parts := strings.SplitN(arg2, ":", 2)
		put(fakeS3(status, parts[0], parts[1]))
	case "endpoint":
		put(arg)
	case "missing-local":
		c := s3Client(fakeS3(200, "", ""))
		if _, err := c.FPutObject(bucket, object, arg, minio.PutObjectOptions{}); err != nil {
			s3Fail("upload", bucket, object, err)
		}
	case "download":
		c := s3Client(fakeS3(200, "", ""))
		key := "events/checkout/2026-11-28.csv"
		if err := c.FGetObject("analytics-exports", key, arg, minio.GetObjectOptions{}); err != nil {
			s3Fail("download", "analytics-exports", key, err)
		}
	case "bad-bucket":
		c := s3Client(fakeS3(200, "", ""))
		if err := c.MakeBucket("Backups_Ledger_2026", "us-east-1"); err != nil {
			s3Fail("create bucket", "Backups_Ledger_2026", "", err)
		}
	}
}

// ------------------------------------------------------------------ nats.go

func natsCase(what, natsURL string) {
	log.SetPrefix("billing-worker ")
	errs := make(chan error, 4)
	opts := []nats.Option{nats.Name("billing-worker"), nats.Timeout(2 * time.Second),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			if sub != nil {
				log.Printf("nats async error on subscription %q: %v", sub.Subject, err)
			} else {
				log.Printf("nats async error: %v", err)
			}
			select {
			case errs <- err:
			default:
			}
		})}
	switch what {
	case "connect":
		if _, err := nats.Connect(natsURL, opts...); err != nil {
			log.Fatalf("connect to %s: %v", natsURL, err)
		}
	case "wrong-password":
		stale := nats.UserInfo("billing", "s3cret-billing-old")
		if _, err := nats.Connect(natsURL, append(opts, stale)...); err != nil {
			log.Fatalf("connect to %s: %v", natsURL, err)
		}
	}
	conn := func() *nats.Conn {
		nc, err := nats.Connect(natsURL, append(opts, nats.UserInfo("billing", "s3cret-billing"))...)
		if err != nil {
			log.Fatalf("connect to %s: %v", natsURL, err)
		}
		return nc
	}
	switch what {
	case "permission":
		nc := conn()
		nc.Publish("payroll.run.2026-11", []byte(`{"period":"2026-11","approved_by":"cfo"}`))
		nc.Flush()
		select {
		case err := <-errs:
			log.Fatalf("publish payroll.run.2026-11: %v", err)
		case <-time.After(2 * time.Second):
		}
	case "max-connections":
		var held []*nats.Conn
		for i := 1; i <= 6; i++ {
			var nc *nats.Conn
			var err error
			for attempt := 1; attempt <= 20; attempt++ { // a write race with the server's -ERR: try again
				nc, err = nats.Connect(natsURL, append(opts, nats.UserInfo("billing", "s3cret-billing"))...)
				if err == nil || !strings.Contains(err.Error(), "write") {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			if err != nil {
				log.Fatalf("worker %d: connect to %s: %v", i, natsURL, err)
			}
			held = append(held, nc)
		}
	case "no-responders":
		nc := conn()
		req := []byte(`{"invoice":"INV-20931"}`)
		if _, err := nc.Request("billing.invoice.render", req, 2*time.Second); err != nil {
			log.Fatalf("render invoice INV-20931: request billing.invoice.render: %v", err)
		}
	case "slow-consumer":
		nc := conn()
		sub, err := nc.Subscribe("billing.events", func(m *nats.Msg) { time.Sleep(50 * time.Millisecond) })
		if err != nil {
			log.Fatal(err)
		}
		sub.SetPendingLimits(64, 64*1024)
		payload := bytes.Repeat([]byte("x"), 512)
		for i := 0; i < 2000; i++ {
			nc.Publish("billing.events", payload)
		}
		nc.Flush()
		select {
		case err := <-errs:
			dropped, _ := sub.Dropped()
			log.Fatalf("consume billing.events (%d dropped): %v", dropped, err)
		case <-time.After(3 * time.Second):
		}
	case "bad-subject":
		nc := conn()
		subject := os.Getenv("BILLING_REPLY_SUBJECT")
		if _, err := nc.Subscribe(subject, func(*nats.Msg) {}); err != nil {
			log.Fatalf("subscribe to reply subject %q (BILLING_REPLY_SUBJECT): %v", subject, err)
		}
	case "closed":
		nc := conn()
		nc.Close()
		if err := nc.Publish("billing.invoice.paid", []byte(`{"invoice":"INV-20931"}`)); err != nil {
			log.Fatalf("publish billing.invoice.paid: %v", err)
		}
	}
}

// ------------------------------------------------------------------ logrus

func logrusCase(what, arg string) {
	switch what {
	case "open":
		f, err := os.OpenFile(arg, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
		if err != nil {
			logrus.WithField("component", "audit").Fatalf("Failed to open log file: %v", err)
		}
		f.Close()
	case "full":
		f, err := os.OpenFile(arg, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
		if err != nil {
			log.Fatal(err)
		}
		logger := logrus.New()
		logger.SetOutput(f)
		logger.SetFormatter(&logrus.JSONFormatter{})
		for i := 0; i < 3; i++ {
			logger.WithFields(logrus.Fields{"order": 70000 + i, "sku": "KB-104-DE", "qty": 2}).Info("order accepted")
		}
		os.Exit(1)
	case "marshal":
		logger := logrus.New()
		logger.SetFormatter(&logrus.JSONFormatter{})
		logger.WithFields(logrus.Fields{"job": "reindex", "progress": make(chan int)}).Info("reindex started")
		os.Exit(1)
	case "level":
		lvl, err := logrus.ParseLevel(arg)
		if err != nil {
			logrus.Fatalf("config: LOG_LEVEL: %v", err)
		}
		logrus.SetLevel(lvl)
	}
}

// ------------------------------------------------------------------ zap

func zapCase(what, arg string) {
	switch what {
	case "sink":
		cfg := zap.NewProductionConfig()
		cfg.OutputPaths = []string{"stdout", arg}
		if _, err := cfg.Build(); err != nil {
			fmt.Fprintf(os.Stderr, "inventory-sync: can't initialize zap logger: %v\n", err)
			os.Exit(1)
		}
	case "config":
		var cfg zap.Config
		if err := json.Unmarshal([]byte(arg), &cfg); err != nil {
			fmt.Fprintf(os.Stderr, "inventory-sync: parse logging config /etc/inventory-sync/logging.json: %v\n", err)
			os.Exit(1)
		}
		if _, err := cfg.Build(); err != nil {
			fmt.Fprintf(os.Stderr, "inventory-sync: can't initialize zap logger: %v\n", err)
			os.Exit(1)
		}
	case "full":
		cfg := zap.NewProductionConfig()
		cfg.OutputPaths = []string{arg}
		cfg.ErrorOutputPaths = []string{"stderr"}
		logger, err := cfg.Build()
		if err != nil {
			log.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			logger.Info("stock level synced", zap.String("warehouse", "FRA-2"), zap.Int("sku", 104000+i),
				zap.Int("on_hand", 17))
		}
		os.Exit(1)
	}
}

// ------------------------------------------------------------------ afero

func aferoCase(what, arg string) {
	log.SetPrefix("assets ")
	var err error
	switch what {
	case "readonly":
		fs := afero.NewReadOnlyFs(afero.NewOsFs())
		err = afero.WriteFile(fs, filepath.Join(arg, "manifest.json"), []byte(`{"version": 42}`), 0o644)
	case "memmap-missing":
		fs := afero.NewMemMapFs()
		fs.MkdirAll("/srv/assets/css", 0o755)
		afero.WriteFile(fs, "/srv/assets/css/site.css", []byte("body{}"), 0o644)
		_, err = afero.ReadFile(fs, "/srv/assets/js/app.3f9c1e.js")
	case "full":
		fs := afero.NewOsFs()
		err = afero.WriteFile(fs, filepath.Join(arg, "bundle.tar"), bytes.Repeat([]byte("A"), 512*1024), 0o644)
	case "basepath":
		fs := afero.NewBasePathFs(afero.NewOsFs(), arg)
		_, err = fs.Open("../../etc/shadow")
	case "notdir":
		fs := afero.NewOsFs()
		_, err = afero.ReadDir(fs, filepath.Join(arg, "manifest.json", "chunks"))
	}
	if err != nil {
		log.Fatalf("publish static assets: %v", err)
	}
}

// ------------------------------------------------------------------ go-toml

type DeployConfig struct {
	Service struct {
		Name     string `toml:"name"`
		Port     int    `toml:"port"`
		Replicas int    `toml:"replicas"`
	} `toml:"service"`
}

func tomlCase(what, arg string) {
	log.SetPrefix("deployctl ")
	switch what {
	case "load":
		if _, err := toml.LoadFile(arg); err != nil {
			log.Fatalf("load %s: %v", arg, err)
		}
	case "unmarshal":
		data, err := os.ReadFile(arg)
		if err != nil {
			log.Fatal(err)
		}
		var cfg DeployConfig
		if err := toml.Unmarshal(data, &cfg); err != nil {
			log.Fatalf("decode %s: %v", arg, err)
		}
	case "non-pointer":
		data, err := os.ReadFile(arg)
		if err != nil {
			log.Fatal(err)
		}
		var cfg DeployConfig
		if err := toml.Unmarshal(data, cfg); err != nil {
			log.Fatalf("decode %s: %v", arg, err)
		}
	}
}

// ------------------------------------------------------------------ go-playground/validator

type Address struct {
	Street  string `validate:"required"`
	Country string `validate:"required,iso3166_1_alpha2"`
}

type Customer struct {
	Email     string    `validate:"required,email"`
	Age       int       `validate:"gte=18,lte=130"`
	Addresses []Address `validate:"required,dive"`
}

type Webhook struct {
	URL    string `validate:"required,url"`
	Secret string `validate:"required,min=32,emial"`
}

type Retry struct {
	Attempts int `validate:"dive,gte=1"`
}

func validatorCase(what string) {
	log.SetPrefix("crm-import ")
	v := validator.New()
	var err error
	switch what {
	case "struct":
		err = v.Struct(Customer{Email: "jan.kowalski@", Age: 16,
			Addresses: []Address{{Street: "Hauptstr. 5", Country: "Germany"}}})
	case "var":
		err = v.Var("prod-eu-west", "oneof=dev staging prod")
		if err != nil {
			log.Fatalf("DEPLOY_ENV: %v", err)
		}
	case "nil":
		var c *Customer
		err = v.Struct(c)
	case "undefined-tag":
		err = v.Struct(Webhook{URL: "https://hooks.example.com/crm", Secret: "x"})
	case "dive":
		err = v.Struct(Retry{Attempts: 3})
	}
	if err != nil {
		log.Fatalf("row 118: %v", err)
	}
}

// ------------------------------------------------------------------ armon/consul-api

func consulCase(what, addr, status, body string) {
	log.SetPrefix("config-sync ")
	if what == "fake" {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var code int
			fmt.Sscan(status, &code)
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(code)
			io.WriteString(w, body)
		}))
		addr = strings.TrimPrefix(srv.URL, "http://")
	}
	cfg := consulapi.DefaultConfig()
	cfg.Address = addr
	cfg.Token = "3f8e2c71-5a0d-4d8b-9c1e-7b2f6a9d4e10"
	cfg.HttpClient = &http.Client{Timeout: 2 * time.Second}
	client, err := consulapi.NewClient(cfg)
	if err != nil {
		log.Fatal(err)
	}
	kv := client.KV()
	key := "service/checkout/config/feature-flags"
	if what == "fake" {
		if _, err := kv.Put(&consulapi.KVPair{Key: key, Value: []byte(`{"new_cart": true}`)}, nil); err != nil {
			log.Fatalf("write %s: %v", key, err)
		}
		return
	}
	if _, _, err := kv.Get(key, nil); err != nil {
		log.Fatalf("read %s: %v", key, err)
	}
}

func main() {
	a := os.Args[1:]
	for len(a) < 5 {
		a = append(a, "")
	}
	switch a[0] {
	case "ws":
		wsCase(a[1], a[2])
	case "gin":
		ginCase(a[1], a[2])
	case "echo":
		echoCase(a[1], a[2])
	case "s3":
		s3Case(a[1], a[2], a[3])
	case "nats":
		natsCase(a[1], a[2])
	case "logrus":
		logrusCase(a[1], a[2])
	case "zap":
		zapCase(a[1], a[2])
	case "afero":
		aferoCase(a[1], a[2])
	case "toml":
		tomlCase(a[1], a[2])
	case "validator":
		validatorCase(a[1])
	case "consul":
		consulCase(a[1], a[2], a[3], a[4])
	default:
		log.Fatal(errors.New("unknown mode " + a[0]))
	}
}
'''


def build_program(env: Env) -> Path:
    """Build opsctl from GO_PROGRAM in the GOPATH overlay (paths trimmed); return the binary."""
    for versioned, debian in (("labstack/echo/v4", "labstack/echo"), ("minio/minio-go/v6", "minio/minio-go")):
        link = _OVERLAY / "src/github.com" / versioned  # the import path has a major version, Debian's tree has not
        link.parent.mkdir(parents=True, exist_ok=True)
        if not link.is_symlink():
            link.symlink_to(DEBIAN_GOPATH / "src/github.com" / debian)
    src = _OVERLAY / "src" / _PACKAGE
    src.mkdir(parents=True, exist_ok=True)
    (src / "main.go").write_text(GO_PROGRAM)
    binary = env.tmp / "opsctl"
    proc = run(["go", "build", "-trimpath", "-o", str(binary), "."], cwd=src, timeout=600, env=GO_ENV)
    if proc.returncode:
        raise RuntimeError(f"opsctl did not build: {proc.stderr[-2000:]}")
    return binary


_NATS_CONF = """listen: 127.0.0.1:{port}
max_connections: 4
authorization {{
  users = [
    {{user: billing, password: "s3cret-billing",
      permissions: {{publish: {{allow: ["billing.>", "_INBOX.>"]}}, subscribe: {{allow: ["billing.>", "_INBOX.>"]}}}}}}
  ]
}}
"""


def private_nats(env: Env) -> int:
    """A nats-server on a free port: one user (`billing`) allowed only `billing.>`, four connections at most."""
    port = free_port()
    conf = env.tmp / "nats117.conf"
    conf.write_text(_NATS_CONF.format(port=port))
    proc = subprocess.Popen(["nats-server", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop() -> None:
        proc.terminate()
        proc.wait(timeout=10)

    env._closers.append(stop)
    _wait_port(port)
    return port


@dataclass
class Fixtures:
    """Paths the modes read or write."""

    site: Path
    cfg: Path
    ro: Path
    full: Path


_TOML = {
    "syntax.toml": '[service]\nname = "checkout-api"\nport = 8080\nreplicas = 3\n'
                   'image = "registry.internal/checkout-api:1.42\n',
    "duplicate.toml": '[service]\nname = "checkout-api"\nport = 8080\n\n[service]\nreplicas = 3\n',
    "mistyped.toml": '[service]\nname = "checkout-api"\nport = "eighty-eighty"\nreplicas = 3\n',
}


def write_fixtures(env: Env) -> Fixtures:
    """The static site and deploy configs, a read-only tmpfs and a tmpfs filled to the last byte."""
    site = env.tmp / "srv" / "storefront" / "public"
    site.mkdir(parents=True)
    (site / "manifest.json").write_text('{"version": 41, "chunks": ["app.3f9c1e.js"]}\n')
    cfg = env.tmp / "etc" / "deployctl"
    cfg.mkdir(parents=True)
    for name, text in _TOML.items():
        (cfg / name).write_text(text)
    ro = mount_tmpfs(env, "ro117", "size=256k")
    (ro / "releases").mkdir()
    subprocess.run(["mount", "-o", "remount,ro", str(ro)], check=True, capture_output=True)
    full = mount_tmpfs(env, "full117", "size=64k")
    with contextlib.suppress(OSError), (full / "spool.bin").open("wb") as f:
        while True:
            f.write(b"\0" * 4096)
            f.flush()
    return Fixtures(site, cfg, ro, full)


__all__ = ["GO_ENV", "Fixtures", "build_program", "private_nats", "write_fixtures"]
