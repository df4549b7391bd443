"""Provokers of real Java and Go failures (both held out). One program per runtime is compiled once and
run once per mode; each mode performs one real failing operation and lets the runtime print its error."""

from __future__ import annotations

import shutil

from common import Env, Record, failure_text, record, run

JAVA_MODES: dict[str, tuple[str, str]] = {
    # mode: (category, body of a static method that fails)
    "refused": ("network", 'new java.net.Socket("127.0.0.1", CLOSED);'),
    "unknown_host": ("network", 'new java.net.Socket("db.recoup-corpus.invalid", 5432);'),
    "read_timeout": ("network", 'java.net.Socket s = new java.net.Socket("127.0.0.1", HANG); '
                                's.setSoTimeout(300); s.getInputStream().read();'),
    "reset": ("network", 'java.net.Socket s = new java.net.Socket("127.0.0.1", RESET); '
                         's.getOutputStream().write("GET / HTTP/1.0\\r\\n\\r\\n".getBytes()); '
                         'Thread.sleep(300); s.getInputStream().read(); s.getInputStream().read();'),
    "http_refused": ("network", 'java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest'
                                '.newBuilder(java.net.URI.create("http://127.0.0.1:" + CLOSED + "/api")).build(), '
                                'java.net.http.HttpResponse.BodyHandlers.ofString());'),
    "http_timeout": ("network", 'java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest'
                                '.newBuilder(java.net.URI.create("http://127.0.0.1:" + HANG + "/"))'
                                '.timeout(java.time.Duration.ofMillis(300)).build(), '
                                'java.net.http.HttpResponse.BodyHandlers.ofString());'),
    "tls_plain": ("network", 'javax.net.ssl.SSLSocket s = (javax.net.ssl.SSLSocket) javax.net.ssl.SSLSocketFactory'
                             '.getDefault().createSocket("127.0.0.1", HTTP); s.startHandshake();'),
    "url_503": ("service", 'new java.net.URL("http://127.0.0.1:" + HTTP + "/status/503").openStream();'),
    "url_500": ("service", 'new java.net.URL("http://127.0.0.1:" + HTTP + "/status/500").openStream();'),
    "url_401": ("auth", 'new java.net.URL("http://127.0.0.1:" + HTTP + "/status/401").openStream();'),
    "url_403": ("auth", 'new java.net.URL("http://127.0.0.1:" + HTTP + "/status/403").openStream();'),
    "url_429": ("resource", 'new java.net.URL("http://127.0.0.1:" + HTTP + "/status/429").openStream();'),
    "url_400": ("validation", 'new java.net.URL("http://127.0.0.1:" + HTTP + "/status/400").openStream();'),
    "file_not_found": ("filesystem", 'new java.io.FileInputStream("/etc/recoup/corpus.properties");'),
    "no_such_file": ("filesystem", 'java.nio.file.Files.readString(java.nio.file.Path.of("missing/app.yaml"));'),
    "file_exists": ("filesystem", 'java.nio.file.Files.createDirectory(java.nio.file.Path.of("/tmp"));'),
    "dir_not_empty": ("filesystem", 'java.nio.file.Files.delete(java.nio.file.Path.of("/etc"));'),
    "is_directory": ("filesystem", 'java.nio.file.Files.readString(java.nio.file.Path.of("/etc"));'),
    "no_space": ("resource", 'java.io.FileOutputStream f = new java.io.FileOutputStream("/dev/full"); '
                             'f.write(new byte[8192]); f.flush(); f.getFD().sync();'),
    "npe": ("programming", 'String s = System.getenv("RECOUP_CORPUS_UNSET"); s.length();'),
    "number_format": ("validation", 'Integer.parseInt("12a");'),
    "index_oob": ("programming", 'int[] a = new int[2]; int i = 5; a[i] = 1;'),
    "class_cast": ("programming", 'Object o = "x"; Integer n = (Integer) o;'),
    "arithmetic": ("programming", 'int z = Integer.parseInt("0"); int r = 10 / z;'),
    "unsupported": ("programming", 'java.util.List.of(1).add(2);'),
    "concurrent_mod": ("programming", 'java.util.List<Integer> l = '
                                      'new java.util.ArrayList<>(java.util.List.of(1,2,3)); '
                                      'for (Integer x : l) l.remove(x);'),
    "stack_overflow": ("programming", 'recurse(0);'),
    "oom": ("resource", 'java.util.List<long[]> l = new java.util.ArrayList<>(); '
                        'for (int i = 0; i < 1000000; i++) l.add(new long[1000000]);'),
    "date_parse": ("validation", 'java.time.LocalDate.parse("31/12/2024");'),
    "malformed_url": ("validation", 'new java.net.URL("ht!tp:/broken");'),
    "uri_syntax": ("validation", 'new java.net.URI("http://bad host/");'),
    "illegal_state": ("programming", 'java.util.Iterator<Integer> it = java.util.List.of(1).iterator(); it.remove();'),
    "cancelled": ("unknown", 'java.util.concurrent.CompletableFuture<Integer> f = '
                             'new java.util.concurrent.CompletableFuture<>(); f.cancel(true); f.get();'),
    "interrupted": ("unknown", 'Thread.currentThread().interrupt(); Thread.sleep(10);'),
}


def _java_source(env: Env, modes: dict[str, tuple[str, str]]) -> str:
    cases = "\n".join(f'            case "{m}": {{ {body} break; }}' for m, (_, body) in modes.items())
    cases = (cases.replace("CLOSED", str(env.closed_port)).replace("HANG", str(env.hang_port))
             .replace("RESET", str(env.reset_port)).replace("HTTP", str(env.http_port)))
    return f"""public class Main {{
    static int recurse(int n) {{ return recurse(n + 1) + 1; }}
    public static void main(String[] args) throws Exception {{
        switch (args[0]) {{
{cases}
        }}
    }}
}}
"""


def java_records(env: Env, modes: dict[str, tuple[str, str]] | None = None, source: str = "java") -> list[Record]:
    if not (shutil.which("java") and shutil.which("javac")):
        return []
    modes = JAVA_MODES if modes is None else modes
    d = env.tmp / source
    d.mkdir()
    (d / "Main.java").write_text(_java_source(env, modes))
    proc = run(["javac", "-nowarn", "Main.java"], cwd=d, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr)
    out: list[Record] = []
    for mode, (category, _) in modes.items():
        flags = ["-Xmx24m"] if mode == "oom" else ["-Xss512k"] if mode == "stack_overflow" else []
        text = failure_text(run(["java", *flags, "-cp", ".", "Main", mode], cwd=d, timeout=60))
        if mode == "stack_overflow":
            text = "\n".join(text.splitlines()[:40])
        out.append(record(text, category, source, "traceback", f"{source}_{mode}"))
    if source != "java":
        return out
    # a compile error of a single-file source launch
    bad = d / "Broken.java"
    bad.write_text("public class Broken { public static void main(String[] a) { int x = undefinedName; } }\n")
    out.append(record(failure_text(run(["java", "Broken.java"], cwd=d, timeout=60)), "programming", "java",
                      "stderr", "java_compile_error"))
    return out


GO_MODES: dict[str, tuple[str, str]] = {
    "refused": ("network", '_, err := net.Dial("tcp", "127.0.0.1:CLOSED"); fail(err)'),
    "dns": ("network", '_, err := net.Dial("tcp", "db.recoup-corpus.invalid:5432"); fail(err)'),
    "http_refused": ("network", '_, err := http.Get("http://127.0.0.1:CLOSED/api"); fail(err)'),
    "http_timeout": ("network", 'c := http.Client{Timeout: 300 * time.Millisecond}; '
                                '_, err := c.Get("http://127.0.0.1:HANG/"); fail(err)'),
    "http_eof": ("network", '_, err := http.Get("http://127.0.0.1:EMPTY/"); fail(err)'),
    "http_reset": ("network", '_, err := http.Get("http://127.0.0.1:RESET/"); fail(err)'),
    "tls_plain": ("network", '_, err := http.Get("https://127.0.0.1:HTTP/"); fail(err)'),
    "read_timeout": ("network", 'c, err := net.Dial("tcp", "127.0.0.1:HANG"); fail(err); '
                                'c.SetReadDeadline(time.Now().Add(300 * time.Millisecond)); '
                                'b := make([]byte, 1); _, err = c.Read(b); fail(err)'),
    "open_missing": ("filesystem", '_, err := os.Open("/etc/recoup/corpus.toml"); fail(err)'),
    "mkdir_exists": ("filesystem", 'err := os.Mkdir("/tmp", 0o755); fail(err)'),
    "remove_not_empty": ("filesystem", 'err := os.Remove("/etc"); fail(err)'),
    "read_dir_file": ("filesystem", '_, err := os.ReadDir("/etc/hostname"); fail(err)'),
    "write_full": ("resource", 'err := os.WriteFile("/dev/full", []byte("data"), 0o644); fail(err)'),
    "index_panic": ("programming", 'a := []int{1, 2}; i := len(os.Args) + 5; fmt.Println(a[i])'),
    "nil_map": ("programming", 'var m map[string]int; m["a"] = 1'),
    "nil_pointer": ("programming", 'var p *struct{ X int }; fmt.Println(p.X)'),
    "div_zero": ("programming", 'z := len(os.Args) - len(os.Args); fmt.Println(1 / z)'),
    "type_assert": ("programming", 'var x interface{} = "s"; fmt.Println(x.(int))'),
    "json_syntax": ("validation", 'var v map[string]any; err := json.Unmarshal([]byte(`{"a": 1,}`), &v); fail(err)'),
    "json_type": ("validation", 'var v struct{ A int }; err := json.Unmarshal([]byte(`{"A": "x"}`), &v); fail(err)'),
    "atoi": ("validation", '_, err := strconv.Atoi("12a"); fail(err)'),
    "time_parse": ("validation", '_, err := time.Parse(time.RFC3339, "yesterday"); fail(err)'),
    "url_parse": ("validation", '_, err := url.Parse("http://[::1/broken"); fail(err)'),
    "status_503": ("service", 'r, err := http.Get("http://127.0.0.1:HTTP/status/503"); fail(err); '
                              'if r.StatusCode >= 400 { log.Fatalf("unexpected status: %s", r.Status) }'),
    "status_401": ("auth", 'r, err := http.Get("http://127.0.0.1:HTTP/status/401"); fail(err); '
                           'if r.StatusCode >= 400 { log.Fatalf("unexpected status: %s", r.Status) }'),
    "status_429": ("resource", 'r, err := http.Get("http://127.0.0.1:HTTP/status/429"); fail(err); '
                               'if r.StatusCode >= 400 { log.Fatalf("unexpected status: %s", r.Status) }'),
    "slice_bounds": ("programming", 's := "abc"; fmt.Println(s[len(os.Args)+3:])'),
    "context_canceled": ("unknown", 'ctx, cancel := context.WithCancel(context.Background()); cancel(); '
                                    '<-ctx.Done(); fail(ctx.Err())'),
    "exec_false": ("unknown", 'err := exec.Command("false").Run(); fail(err)'),
    "exec_killed": ("unknown", 'err := exec.Command("sh", "-c", "kill -KILL $$").Run(); fail(err)'),
}


def _go_source(env: Env, modes: dict[str, tuple[str, str]], imports: str = "") -> str:
    cases = "\n".join(f'\tcase "{m}":\n\t\t{body}' for m, (_, body) in modes.items())
    cases = (cases.replace("CLOSED", str(env.closed_port)).replace("HANG", str(env.hang_port))
             .replace("RESET", str(env.reset_port)).replace("EMPTY", str(env.empty_port))
             .replace("HTTP", str(env.http_port)))
    return f"""package main

import (
\t"context"
\t"encoding/json"
\t"fmt"
\t"log"
\t"net"
\t"net/http"
\t"net/url"
\t"os"
\t"os/exec"
\t"strconv"
\t"time"
{imports})

func fail(err error) {{
\tif err != nil {{
\t\tlog.Fatal(err)
\t}}
}}

var _ = json.Unmarshal
var _ = url.Parse
var _ = strconv.Atoi
var _ = context.Background
var _ = exec.Command
var _ = net.Dial
var _ = http.Get
var _ = time.Now
var _ = fmt.Sprint

func main() {{
\tswitch os.Args[1] {{
{cases}
\t}}
}}
"""


def go_records(env: Env, modes: dict[str, tuple[str, str]] | None = None, source: str = "go",
               imports: str = "") -> list[Record]:
    if not shutil.which("go"):
        return []
    modes = GO_MODES if modes is None else modes
    d = env.tmp / f"{source}-src"
    d.mkdir()
    (d / "main.go").write_text(_go_source(env, modes, imports))
    (d / "go.mod").write_text("module corpus\n\ngo 1.19\n")
    proc = run(["go", "build", "-o", "corpus-go", "."], cwd=d, timeout=300,
               env={"GOFLAGS": "-mod=mod", "GOPROXY": "off", "GOCACHE": "/tmp/recoup-corpus-gocache"})
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr)
    out: list[Record] = []
    for mode, (category, _) in modes.items():
        text = failure_text(run([str(d / "corpus-go"), mode], cwd=d, timeout=60))
        out.append(record(text, category, source, "stderr", f"{source}_{mode}"))
    return out


__all__ = ["go_records", "java_records"]
