"""C# programs and local servers for batch 51 (see `blind51_provokers.py`).

Three small programs are compiled with Mono's `mcs` and run with `mono`, each failing the way its callers meet it
in automation: `relctl` (an HTTP client of release and deploy APIs: HttpClient, WebClient, HttpWebRequest and
SmtpClient), `opsctl` (files, directories and parsing of configuration input) and `worker` (defects of the
program's own code). `BROKEN` holds sources that `mcs` must reject. `tls_server` serves TLS with a self-signed
certificate nobody trusts."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
from pathlib import Path

from common import Env

RELCTL = r'''
using System;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Net.Mail;
using System.Text;
using System.Threading;

class HealthCheckException : Exception
{
    public HealthCheckException(string message, Exception inner) : base(message, inner) { }
}

static class Relctl
{
    static HttpClient Client(int seconds)
    {
        var client = new HttpClient();
        client.Timeout = TimeSpan.FromSeconds(seconds);
        client.DefaultRequestHeaders.Add("Authorization",
            "Bearer " + (Environment.GetEnvironmentVariable("RELCTL_TOKEN") ?? "b51-token"));
        client.DefaultRequestHeaders.Add("User-Agent", "relctl/5.1");
        return client;
    }

    static int Main(string[] args)
    {
        string mode = args[0], url = args[1];
        switch (mode)
        {
            case "get":
            {
                var response = Client(3).GetAsync(url).GetAwaiter().GetResult();
                response.EnsureSuccessStatusCode();
                Console.WriteLine(response.Content.ReadAsStringAsync().GetAwaiter().GetResult());
                break;
            }
            case "get-result":
            {
                var response = Client(3).GetAsync(url).Result;
                response.EnsureSuccessStatusCode();
                break;
            }
            case "post":
            {
                var body = new StringContent("{\"version\": \"51.0.3\", \"replicas\": 3}", Encoding.UTF8,
                    "application/json");
                var response = Client(3).PostAsync(url, body).GetAwaiter().GetResult();
                response.EnsureSuccessStatusCode();
                break;
            }
            case "download":
                using (var web = new WebClient())
                    Console.WriteLine(web.DownloadString(url));
                break;
            case "download-file":
                using (var web = new WebClient())
                    web.DownloadFile(url, args[2]);
                break;
            case "upload":
                using (var web = new WebClient())
                {
                    web.Headers[HttpRequestHeader.ContentType] = "application/json";
                    web.UploadString(url, "{\"status\": \"deployed\", \"build\": 5108}");
                }
                break;
            case "request":
            {
                var request = (HttpWebRequest)WebRequest.Create(url);
                request.Timeout = 2000;
                request.ReadWriteTimeout = 2000;
                using (var response = request.GetResponse())
                using (var reader = new StreamReader(response.GetResponseStream()))
                    Console.WriteLine(reader.ReadToEnd());
                break;
            }
            case "retry":
            {
                int attempts = int.Parse(args[2]);
                Exception last = null;
                for (int i = 1; i <= attempts; i++)
                {
                    try
                    {
                        Client(3).GetAsync(url).GetAwaiter().GetResult().EnsureSuccessStatusCode();
                        return 0;
                    }
                    catch (HttpRequestException e)
                    {
                        last = e;
                        Console.Error.WriteLine("attempt {0}/{1} failed: {2}", i, attempts, e.Message);
                        Thread.Sleep(200);
                    }
                }
                throw new HealthCheckException("health check of " + url + " failed after " + attempts
                    + " attempts", last);
            }
            case "mail":
            {
                var smtp = new SmtpClient("127.0.0.1", int.Parse(url));
                smtp.Timeout = 3000;
                smtp.Send("ci@build51.example.org", "oncall@build51.example.org", "deploy 51.0.3 finished",
                    "release 51.0.3 is live");
                break;
            }
            default:
                Console.Error.WriteLine("unknown mode " + mode);
                return 2;
        }
        return 0;
    }
}
'''

OPSCTL = r'''
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Net;
using System.Runtime.Serialization;
using System.Runtime.Serialization.Json;
using System.Text;
using System.Web.Script.Serialization;
using System.Xml;

[DataContract]
class Manifest
{
    [DataMember(Name = "name")] public string Name;
    [DataMember(Name = "replicas")] public int Replicas;
}

enum LogLevel { Debug, Info, Warning, Error }

static class Opsctl
{
    static void CheckConfig(string path)
    {
        int number = 0;
        foreach (var raw in File.ReadAllLines(path))
        {
            number++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith("#")) continue;
            var parts = line.Split(new[] { '=' }, 2);
            if (parts.Length != 2)
                throw new FormatException(string.Format("{0}:{1}: expected 'key = value', got '{2}'", path, number,
                    line));
            if (parts[0].Trim() == "workers") int.Parse(parts[1].Trim());
        }
    }

    static int Main(string[] args)
    {
        string mode = args[0];
        switch (mode)
        {
            case "show":
                Console.WriteLine(File.ReadAllText(args[1]));
                break;
            case "list":
                foreach (var f in Directory.GetFiles(args[1])) Console.WriteLine(f);
                break;
            case "write":
            {
                var chunk = new byte[65536];
                new Random(51).NextBytes(chunk);
                long total = long.Parse(args[2]);
                using (var stream = new FileStream(args[1], FileMode.Create, FileAccess.Write))
                    for (long written = 0; written < total; written += chunk.Length)
                        stream.Write(chunk, 0, chunk.Length);
                break;
            }
            case "copy":
                File.Copy(args[1], args[2]);
                break;
            case "move":
                File.Move(args[1], args[2]);
                break;
            case "mkdir":
                Directory.CreateDirectory(args[1]);
                break;
            case "clean":
                Directory.Delete(args[1]);
                break;
            case "stamp":
                File.WriteAllText(args[1], DateTime.UtcNow.ToString("o"));
                break;
            case "open-all":
            {
                var open = new List<FileStream>();
                foreach (var f in Directory.GetFiles(args[1]))
                    open.Add(File.OpenRead(f));
                Console.WriteLine(open.Count);
                break;
            }
            case "load-index":
            {
                var blocks = new List<long[]>();
                int count = int.Parse(args[1]);
                for (int i = 0; i < count; i++)
                    blocks.Add(new long[16 * 1024 * 1024]);
                Console.WriteLine(blocks.Count);
                break;
            }
            case "port":
                Console.WriteLine(int.Parse(args[1]));
                break;
            case "listen-port":
                Console.WriteLine(ushort.Parse(args[1]));
                break;
            case "since":
                Console.WriteLine(DateTime.ParseExact(args[1], "yyyy-MM-dd", CultureInfo.InvariantCulture));
                break;
            case "timeout":
                Console.WriteLine(TimeSpan.Parse(args[1]));
                break;
            case "allow":
                Console.WriteLine(IPAddress.Parse(args[1]));
                break;
            case "secret":
                Console.WriteLine(Convert.FromBase64String(args[1]).Length);
                break;
            case "run-id":
                Console.WriteLine(Guid.Parse(args[1]));
                break;
            case "log-level":
                Console.WriteLine((LogLevel)Enum.Parse(typeof(LogLevel), args[1]));
                break;
            case "manifest":
            {
                var serializer = new DataContractJsonSerializer(typeof(Manifest));
                using (var stream = File.OpenRead(args[1]))
                    Console.WriteLine(((Manifest)serializer.ReadObject(stream)).Name);
                break;
            }
            case "settings":
            {
                var settings = new JavaScriptSerializer().Deserialize<Dictionary<string, object>>(
                    File.ReadAllText(args[1]));
                Console.WriteLine(settings.Count);
                break;
            }
            case "pipeline":
            {
                var doc = new XmlDocument();
                doc.Load(args[1]);
                Console.WriteLine(doc.DocumentElement.Name);
                break;
            }
            case "check-config":
                CheckConfig(args[1]);
                break;
            default:
                Console.Error.WriteLine("unknown mode " + mode);
                return 2;
        }
        return 0;
    }
}
'''

WORKER = r'''
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

class Job
{
    public string Name;
    public string Queue;
    public int Attempts;
}

static class Worker
{
    static readonly Dictionary<string, string> Regions = new Dictionary<string, string>
    {
        { "eu-west-1", "dub" }, { "us-east-1", "iad" },
    };

    static int Depth(Job job, int level)
    {
        return Depth(job, level + 1) + 1;
    }

    static Job Find(string name)
    {
        return name == "nightly" ? new Job { Name = "nightly", Queue = "batch" } : null;
    }

    static int Main(string[] args)
    {
        string mode = args[0];
        switch (mode)
        {
            case "null":
                Console.WriteLine(Find("hourly").Queue.ToUpperInvariant());
                break;
            case "index":
            {
                var shards = new[] { "s0", "s1", "s2" };
                for (int i = 0; i <= shards.Length; i++) Console.WriteLine(shards[i]);
                break;
            }
            case "cast":
            {
                object attempts = 3;
                Console.WriteLine(((string)attempts).Length);
                break;
            }
            case "key":
                Console.WriteLine(Regions["eu-central-2"]);
                break;
            case "divide":
            {
                int done = 0, failed = 0;
                Console.WriteLine(100 * failed / done);
                break;
            }
            case "stack":
                Console.WriteLine(Depth(new Job { Name = "root" }, 0));
                break;
            case "modified":
            {
                var jobs = new List<Job> { new Job { Name = "a", Attempts = 3 }, new Job { Name = "b" } };
                foreach (var job in jobs)
                    if (job.Attempts >= 3) jobs.Remove(job);
                break;
            }
            case "list-range":
            {
                var queues = new List<string> { "default", "batch" };
                Console.WriteLine(queues[2]);
                break;
            }
            case "first":
            {
                var jobs = new List<Job>();
                Console.WriteLine(jobs.First(j => j.Queue == "batch").Name);
                break;
            }
            case "todo":
                throw new NotImplementedException("export to parquet is not implemented yet");
            case "disposed":
            {
                var log = new StreamWriter(new MemoryStream());
                log.Dispose();
                log.WriteLine("job finished");
                break;
            }
            case "overflow":
            {
                int total = int.MaxValue - 2;
                checked { total += args.Length * 10; }
                Console.WriteLine(total);
                break;
            }
            case "task":
                Task.Run(() => Find("weekly").Name.Length).Wait();
                break;
            case "thread":
            {
                var thread = new Thread(() => Console.WriteLine(Regions["ap-south-1"]));
                thread.Start();
                thread.Join();
                break;
            }
            default:
                Console.Error.WriteLine("unknown mode " + mode);
                return 2;
        }
        return 0;
    }
}
'''

#: broken sources `mcs` must reject, by case name
BROKEN: dict[str, str] = {
    "mcs_unknown_name": r'''
using System;
static class Deploy
{
    static void Main()
    {
        var target = "prod";
        Console.WriteLine(targets.Length + target);
    }
}
''',
    "mcs_type_mismatch": r'''
using System;
static class Deploy
{
    static void Main()
    {
        int replicas = Environment.GetEnvironmentVariable("REPLICAS");
        Console.WriteLine(replicas);
    }
}
''',
    "mcs_missing_semicolon": r'''
using System;
static class Deploy
{
    static void Main()
    {
        var version = "51.0.3"
        Console.WriteLine(version);
    }
}
''',
    "mcs_unknown_type": r'''
using System;
static class Deploy
{
    static void Main()
    {
        var client = new ReleaseClient("https://releases.example.org");
        Console.WriteLine(client);
    }
}
''',
    "mcs_no_member": r'''
using System;
using System.Collections.Generic;
static class Deploy
{
    static void Main()
    {
        var hosts = new List<string> { "a", "b" };
        Console.WriteLine(hosts.Length);
    }
}
''',
    "mcs_unassigned_local": r'''
using System;
static class Deploy
{
    static void Main(string[] args)
    {
        int timeout;
        if (args.Length > 0) timeout = int.Parse(args[0]);
        Console.WriteLine(timeout * 1000);
    }
}
''',
    "mcs_not_all_paths": r'''
using System;
static class Deploy
{
    static string Channel(string branch)
    {
        if (branch == "main") return "stable";
        if (branch.StartsWith("release/")) return "candidate";
    }
    static void Main() { Console.WriteLine(Channel("dev")); }
}
''',
}

_REFS = ["-r:System.Net.Http.dll", "-r:System.Runtime.Serialization.dll", "-r:System.Web.Extensions.dll",
         "-r:System.Xml.dll"]


def build(env: Env) -> Path:
    """Compile the three programs into ``env.tmp/bin`` (world-readable, so `nobody` can run them) and write each
    broken source into ``env.tmp/<case>/Program.cs``. Returns the bin directory."""
    bindir = env.tmp / "bin"
    bindir.mkdir()
    os.chmod(env.tmp, 0o755)
    os.chmod(bindir, 0o755)
    for name, source in (("relctl", RELCTL), ("opsctl", OPSCTL), ("worker", WORKER)):
        src = env.tmp / f"{name}.cs"
        src.write_text(source.lstrip())
        proc = subprocess.run(["mcs", "-nologo", *_REFS, f"-out:{bindir / name}.exe", str(src)],
                              capture_output=True, text=True, check=False, timeout=120)
        if proc.returncode:
            raise RuntimeError(f"building {name} failed:\n{proc.stdout}{proc.stderr}")
    for name, source in BROKEN.items():
        project = env.tmp / name
        project.mkdir()
        (project / "Program.cs").write_text(source.lstrip())
    return bindir


def tls_server(env: Env) -> int:
    """A TLS server on 127.0.0.1 with a fresh self-signed certificate (no client trusts it); returns its port."""
    root = Path(tempfile.mkdtemp(prefix="recoup-corpus-tls51-"))
    cert, key = root / "cert.pem", root / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                    "/CN=releases.build51.internal", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    port: int = listener.getsockname()[1]
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            conn.settimeout(3)
            with contextlib.suppress(OSError), ctx.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1024)
                tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    threading.Thread(target=serve, daemon=True).start()

    def close() -> None:
        stop.set()
        listener.close()
        shutil.rmtree(root, ignore_errors=True)

    env._closers.append(close)
    return port


__all__ = ["BROKEN", "build", "tls_server"]
