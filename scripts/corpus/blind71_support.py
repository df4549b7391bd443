"""Support for batch 71: the OCaml and Nim programs whose uncaught failures the batch records, and how they are
built. Each language gets one small program that picks its failure from its first argument (the way a CLI picks
a subcommand), built once with ocamlfind ocamlopt (unix, curl, postgresql, yojson, csv) or nim c, plus single
files that do not compile. Binaries live in a directory `nobody` can reach, so cases can run as that user."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from common import Env, run

OCAML_MAIN = r'''
let arg i = if Array.length Sys.argv > i then Sys.argv.(i) else ""

let http_get_raw port path =
  let sock = Unix.socket Unix.PF_INET Unix.SOCK_STREAM 0 in
  Unix.connect sock (Unix.ADDR_INET (Unix.inet_addr_loopback, port));
  let req = Printf.sprintf
      "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: release-bot\r\nConnection: close\r\n\r\n" path port in
  ignore (Unix.write_substring sock req 0 (String.length req));
  let ic = Unix.in_channel_of_descr sock in
  let status = String.trim (input_line ic) in
  close_in ic;
  match String.split_on_char ' ' status with
  | _ :: code :: _ when String.length code = 3 && code.[0] = '2' -> ()
  | _ -> failwith (Printf.sprintf "GET http://127.0.0.1:%d%s: %s" port path status)

let curl_get ~fail ~timeout url =
  let c = Curl.init () in
  Curl.set_url c url;
  Curl.set_failonerror c fail;
  if timeout > 0 then Curl.set_timeout c timeout;
  Curl.set_writefunction c (fun s -> String.length s);
  (try Curl.perform c with Curl.CurlException (_, n, msg) ->
     let status = Curl.get_responsecode c in
     if status = 0 then Printf.eprintf "deployctl: GET %s failed: %s (curl error %d)\n" url msg n
     else Printf.eprintf "deployctl: GET %s failed: %s (curl error %d, HTTP status %d)\n" url msg n status;
     exit 1);
  let code = Curl.get_responsecode c in
  Curl.cleanup c;
  code

let pg_exec conninfo sql =
  try
    let c = new Postgresql.connection ~conninfo () in
    ignore (c#exec ~expect:[Postgresql.Command_ok; Postgresql.Tuples_ok] sql);
    c#finish
  with Postgresql.Error e ->
    prerr_endline ("migrate: " ^ Postgresql.string_of_error e);
    exit 2

let read_all path =
  let ic = open_in path in
  let s = really_input_string ic (in_channel_length ic) in
  close_in ic;
  s

let check_release tag =
  assert (String.length tag > 0 && tag.[0] = 'v');
  assert false

let rec depth n = if n = 0 then 0 else 1 + depth (n - 1)

let () =
  match arg 1 with
  | "connect" ->
    let s = Unix.socket Unix.PF_INET Unix.SOCK_STREAM 0 in
    Unix.connect s (Unix.ADDR_INET (Unix.inet_addr_loopback, int_of_string (arg 2)))
  | "reset" ->
    let s = Unix.socket Unix.PF_INET Unix.SOCK_STREAM 0 in
    Unix.connect s (Unix.ADDR_INET (Unix.inet_addr_loopback, int_of_string (arg 2)));
    ignore (Unix.write_substring s "PING\r\n" 0 6);
    Unix.sleepf 0.3;
    let buf = Bytes.create 64 in
    ignore (Unix.read s buf 0 64);
    ignore (Unix.read s buf 0 64)
  | "curl" -> Printf.printf "%d\n" (curl_get ~fail:true ~timeout:2 (arg 2))
  | "raw" -> http_get_raw (int_of_string (arg 2)) (arg 3)
  | "pg" -> pg_exec (arg 2) (arg 3)
  | "read" -> print_string (read_all (arg 2))
  | "write" ->
    let oc = open_out (arg 2) in
    output_string oc (String.make (int_of_string (arg 3)) 'x');
    close_out oc
  | "mkdir" -> Unix.mkdir (arg 2) 0o755
  | "rmdir" -> Unix.rmdir (arg 2)
  | "open_many" ->
    let fds = ref [] in
    while true do fds := Unix.openfile (arg 2) [Unix.O_RDONLY] 0 :: !fds done
  | "alloc" -> Printf.printf "%d\n" (Array.length (Array.make (int_of_string (arg 2)) 0.0))
  | "int" -> Printf.printf "workers=%d\n" (int_of_string (arg 2))
  | "json" -> print_endline (Yojson.Safe.to_string (Yojson.Safe.from_string (read_all (arg 2))))
  | "json_field" ->
    let j = Yojson.Safe.from_string (read_all (arg 2)) in
    Printf.printf "replicas=%d\n" Yojson.Safe.Util.(member "replicas" j |> to_int)
  | "csv" -> Printf.printf "%d rows\n" (List.length (Csv.load (arg 2)))
  | "scanf" -> Scanf.sscanf (arg 2) "%d-%d-%d" (fun y m d -> Printf.printf "%04d/%02d/%02d\n" y m d)
  | "hashtbl" ->
    let settings = Hashtbl.create 8 in
    Hashtbl.replace settings "retries" "3";
    print_endline (Hashtbl.find settings "timeout")
  | "array" ->
    let shards = [| "s0"; "s1"; "s2" |] in
    print_endline shards.(int_of_string "3")
  | "nth" -> print_endline (List.nth ["eu-west"; "us-east"] 4)
  | "assert" -> check_release (arg 2)
  | "div" -> Printf.printf "avg=%d\n" (120 / List.length [])
  | "stack" -> Printf.printf "%d\n" (depth 100_000_000)
  | other -> prerr_endline ("unknown case " ^ other); exit 64
'''

#: name -> (source of one .ml that does not compile, ocamlfind packages)
OCAML_BROKEN: dict[str, tuple[str, str]] = {
    "type_error": ('let retries : int = "3"\nlet () = Printf.printf "%d\\n" retries\n', "unix"),
    "unbound_module": ('let () = Lwt_main.run (Lwt_io.printl "deploy")\n', "unix"),
    "syntax_error": ('let deploy env =\n  match env with\n  | "prod" -> 1\n  | _ -> 0\nin\nlet () = ()\n', "unix"),
    "missing_package": ('let () = print_endline "ok"\n', "unix,cohttp-lwt-unix"),
}

OCAML_SCRIPTS: dict[str, str] = {
    "toplevel_missing": 'let ic = open_in "deploy/inventory.ini" in print_endline (input_line ic);;\n',
    "toplevel_not_found": 'let env = [("STAGE", "ci")];;\nprint_endline (List.assoc "REGION" env);;\n',
}

NIM_MAIN = r'''
import std/[os, strutils, tables, json, httpclient, parsecsv, times, db_postgres]

type Job = ref object
  name: string

proc main() =
  let args = commandLineParams()
  case args[0]
  of "index":
    let hosts = @["a", "b", "c"]
    echo hosts[parseInt("5")]
  of "key":
    var stages = {"build": 1, "test": 2}.toTable
    echo stages["deploy"]
  of "parseint":
    echo "workers=", parseInt(args[1])
  of "json":
    echo parseJson(readFile(args[1]))
  of "csv":
    var p: CsvParser
    p.open(args[1])
    while p.readRow():
      echo p.row.len
    p.close()
  of "date":
    echo parse(args[1], "yyyy-MM-dd")
  of "read":
    echo readFile(args[1])
  of "write":
    writeFile(args[1], repeat('x', parseInt(args[2])))
  of "copy":
    copyFile(args[1], args[2])
  of "mkdir":
    createDir(args[1])
  of "remove":
    removeFile(args[1])
  of "http":
    let client = newHttpClient(timeout = 2000)
    echo client.getContent(args[1])
  of "pg":
    let db = open("", "", "", args[1])
    echo db.getValue(sql(args[2]))
  of "div":
    let n = parseInt("0")
    echo 100 div n
  of "assert":
    doAssert args.len > 3, "deploy needs <env> <version> <region>"
  of "nil":
    var job: Job
    echo job.name
  else:
    quit("unknown case " & args[0], 64)

main()
'''

NIM_BROKEN: dict[str, str] = {
    "type_mismatch": 'let retries: int = "3"\necho retries\n',
    "undeclared": 'echo renderManifest("prod")\n',
}


class Build:
    """Where the programs of the batch are built; `dir` is world-readable so cases can run as nobody."""

    def __init__(self, env: Env) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="recoup-b71-"))
        self.dir.chmod(0o755)
        env._closers.append(lambda: shutil.rmtree(self.dir, ignore_errors=True))
        self.ocaml = self.dir / "deployctl"
        self.nim = self.dir / "pipeline"

    def build(self) -> list[str]:
        """Build both programs; the names of those that failed to build (a harness problem)."""
        failed: list[str] = []
        (self.dir / "deployctl.ml").write_text(OCAML_MAIN, encoding="utf-8")
        packages = "threads.posix,unix,curl,postgresql,yojson,csv"
        proc = run(["ocamlfind", "ocamlopt", "-g", "-thread", "-w", "-a", "-package", packages, "-linkpkg",
                    "deployctl.ml", "-o", str(self.ocaml)], cwd=self.dir, timeout=120)
        if proc.returncode:
            failed.append("ocaml")
        (self.dir / "pipeline.nim").write_text(NIM_MAIN, encoding="utf-8")
        proc = run(["nim", "c", "--hints:off", "--warnings:off", f"--nimcache:{self.dir / 'nimcache'}",
                    f"--out:{self.nim}", "pipeline.nim"], cwd=self.dir, timeout=150)
        if proc.returncode:
            failed.append("nim")
        for name, (source, _) in OCAML_BROKEN.items():
            (self.dir / f"{name}.ml").write_text(source, encoding="utf-8")
        for name, source in OCAML_SCRIPTS.items():
            (self.dir / f"{name}.ml").write_text(source, encoding="utf-8")
        for name, source in NIM_BROKEN.items():
            (self.dir / f"{name}.nim").write_text(source, encoding="utf-8")
        return failed


__all__ = ["NIM_BROKEN", "NIM_MAIN", "OCAML_BROKEN", "OCAML_MAIN", "OCAML_SCRIPTS", "Build"]
