"""Forty-fifth batch of blind provokers: Erlang/OTP 25 and Elixir 1.14 as services and release scripts print their
failures, uncaught (an escript's `exception error`, Elixir's `** (Exception)` with its stacktrace) or logged as
`{error, Reason}` tuples through logger/Logger before the script halts. gen_tcp, :ssl and httpc against a closed
port, a server that resets, one that closes after half a response, one that never answers, a `.invalid` host (the
BEAM resolver is pointed at the hosts file only, so no query leaves the machine) and a TLS server with a
self-signed certificate; httpc against local servers answering 400/401/403/422/429/500/502/503 in code that
crashes or raises on a non-2xx status; file and File on missing, unreadable (as `nobody`), read-only, full
(tmpfs) paths and directories; a lowered `ulimit -n`; a process killed at its `max_heap_size`; parsing of bad
integers, dates, URIs, versions, base64 and Erlang terms; and defects of the calling code (badmatch, MatchError,
function_clause, undef, badarith, badkey, case_clause, KeyError, Protocol.UndefinedError, compile and syntax
errors in a script). Only 127.0.0.1."""

from __future__ import annotations

from blind45_support import BeamCase, beam_tool_cases, no_retry_api, script_dir
from checked import tool_records
from cloudapi import ANSWERS, cloud_api
from common import Env, Record, write_batch
from servers import mount_tmpfs
from servers import self_signed_https as self_signed_tls

BLIND45_SOURCES = frozenset({"erlang45", "elixir45"})

ANSWERS.update({
    "hex45_401": (401, "application/json", '{"status": 401, "message": "invalid API key"}'),
    "orders45_422": (422, "application/json", '{"errors": {"quantity": ["must be greater than 0"]}}'),
})

_HTTPC = "    inets:start(),\n"

ERLANG: list[BeamCase] = [
    BeamCase("erl_tcp_refused", "network", "econnrefused", "erl", """main(_) ->
    case gen_tcp:connect("127.0.0.1", @CLOSED@, [binary, {active, false}], 2000) of
        {ok, Sock} -> gen_tcp:close(Sock);
        {error, Reason} ->
            logger:error("cache pool: connect to 127.0.0.1:~p failed: ~p", [@CLOSED@, Reason]),
            stop(1)
    end."""),
    BeamCase("erl_httpc_reset", "network", "econnreset|closed", "erl", f"""main(_) ->
{_HTTPC}    {{ok, {{{{_, 200, _}}, _, Body}}}} = httpc:request(get, {{"http://127.0.0.1:@RESET@/v1/health", []}},
                                                 [{{timeout, 3000}}], []),
    io:format("~s~n", [Body])."""),
    BeamCase("erl_httpc_timeout", "network", "timeout", "erl", f"""main(_) ->
{_HTTPC}    Url = "http://127.0.0.1:@HANG@/api/inventory",
    case httpc:request(get, {{Url, []}}, [{{timeout, 1500}}, {{connect_timeout, 1000}}], []) of
        {{ok, {{{{_, Status, _}}, _, _}}}} -> io:format("~p~n", [Status]);
        {{error, Reason}} ->
            logger:error("inventory sync: GET ~s failed: ~p", [Url, Reason]),
            stop(1)
    end."""),
    BeamCase("erl_tcp_nxdomain", "network", "nxdomain", "erl", """main(_) ->
    {ok, Sock} = gen_tcp:connect("rabbitmq.prod.invalid", 5672, [binary, {active, false}], 3000),
    gen_tcp:close(Sock)."""),
    BeamCase("erl_ssl_self_signed", "network", "certificate|tls_alert", "erl", """main(_) ->
    {ok, _} = application:ensure_all_started(ssl),
    Opts = [{verify, verify_peer}, {cacerts, public_key:cacerts_get()}, {active, false}],
    case ssl:connect("127.0.0.1", @TLS@, Opts, 3000) of
        {ok, Sock} -> ssl:close(Sock);
        {error, Reason} ->
            logger:error("metrics exporter: TLS connect to 127.0.0.1:~p failed: ~p", [@TLS@, Reason]),
            stop(2)
    end."""),
    BeamCase("erl_httpc_half_response", "network", "closed", "erl", f"""main(_) ->
{_HTTPC}    case httpc:request(get, {{"http://127.0.0.1:@CLOSE@/artifacts/app-1.4.2.tar.gz", []}}, [{{timeout, 3000}}],
                       [{{body_format, binary}}]) of
        {{ok, {{_, _, Body}}}} -> io:format("~p bytes~n", [byte_size(Body)]);
        {{error, Reason}} -> erlang:error({{download_failed, Reason}})
    end."""),
    BeamCase("erl_httpc_500", "service", "500", "erl", f"""main(_) ->
{_HTTPC}    {{ok, {{{{_, 200, _}}, _, Body}}}} = httpc:request(get, {{"@HTTP@/status/500", []}},
                                                 [{{timeout, 3000}}], []),
    io:format("~s~n", [Body])."""),
    BeamCase("erl_httpc_502", "service", "502", "erl", f"""main(_) ->
{_HTTPC}    Url = "@API@/nginx502/v2/shipments",
    case httpc:request(get, {{Url, []}}, [{{timeout, 3000}}], []) of
        {{ok, {{{{_, 200, _}}, _, Body}}}} -> io:format("~s~n", [Body]);
        {{ok, {{{{_, Status, Phrase}}, _, Body}}}} ->
            logger:error("shipments client: GET ~s -> ~p ~s~n~s", [Url, Status, Phrase, Body]),
            stop(1)
    end."""),
    BeamCase("erl_httpc_503", "service", "503", "erl", f"""fetch(Url) ->
    case httpc:request(get, {{Url, []}}, [{{timeout, 3000}}], [{{body_format, binary}}]) of
        {{ok, {{{{_, 200, _}}, _, Body}}}} -> Body;
        {{ok, {{{{_, Status, _}}, _, Body}}}} -> erlang:error({{http_status, Status, Body}})
    end.

main(_) ->
{_HTTPC}    fetch("@NORETRY@/gcp503/v1/projects/app45/topics")."""),
    BeamCase("erl_httpc_401", "auth", "401", "erl", f"""main(_) ->
{_HTTPC}    Headers = [{{"authorization", "Bearer ghp_b45expired"}}],
    {{ok, {{{{_, 200, _}}, _, Body}}}} = httpc:request(get, {{"@API@/gh401/repos/acme/app/releases", Headers}},
                                                 [{{timeout, 3000}}], [{{body_format, binary}}]),
    io:format("~s~n", [Body])."""),
    BeamCase("erl_httpc_403", "auth", "403", "erl", f"""main(_) ->
{_HTTPC}    Url = "@API@/s3denied/backups/db-2026-11-29.dump",
    case httpc:request(put, {{Url, [], "application/octet-stream", <<"dump">>}}, [{{timeout, 3000}}], []) of
        {{ok, {{{{_, Status, _}}, _, _}}}} when Status < 300 -> ok;
        {{ok, {{{{_, Status, _}}, _, Body}}}} ->
            logger:error("backup upload to ~s failed: status ~p: ~s", [Url, Status, Body]),
            stop(1)
    end."""),
    BeamCase("erl_httpc_429", "resource", "429", "erl", f"""main(_) ->
{_HTTPC}    case httpc:request(get, {{"@API@/gcp429/v1/sheets/b45/values", []}}, [{{timeout, 3000}}], []) of
        {{ok, {{{{_, 200, _}}, _, Body}}}} -> io:format("~s~n", [Body]);
        {{ok, {{{{_, Status, _}}, Headers, Body}}}} ->
            erlang:error({{unexpected_response, Status, proplists:get_value("retry-after", Headers), Body}})
    end."""),
    BeamCase("erl_httpc_422", "validation", "422", "erl", f"""main(_) ->
{_HTTPC}    Payload = <<"{{\\"sku\\": \\"B45-1\\", \\"quantity\\": -3}}">>,
    case httpc:request(post, {{"@API@/orders45_422/v1/orders", [], "application/json", Payload}},
                       [{{timeout, 3000}}], []) of
        {{ok, {{{{_, 201, _}}, _, _}}}} -> ok;
        {{ok, {{{{_, Status, _}}, _, Body}}}} ->
            logger:error("order import rejected: ~p ~s", [Status, Body]),
            stop(1)
    end."""),
    BeamCase("erl_read_enoent", "filesystem", "enoent", "erl", """main(_) ->
    {ok, Bin} = file:read_file("@W@/releases/1.4.2/sys.config"),
    io:format("~p~n", [byte_size(Bin)])."""),
    BeamCase("erl_write_eacces", "filesystem", "eacces", "erl", """main(_) ->
    Path = "@W@/locked45/report.csv",
    case file:write_file(Path, <<"id,total\\n1,42\\n">>) of
        ok -> ok;
        {error, Reason} ->
            logger:error("report writer: cannot write ~s: ~p", [Path, Reason]),
            stop(1)
    end.""", user="nobody"),
    BeamCase("erl_write_enospc", "resource", "enospc", "erl", """main(_) ->
    Path = "@DISK@/segment-000045.log",
    case file:write_file(Path, crypto:strong_rand_bytes(600000)) of
        ok -> ok;
        {error, Reason} ->
            logger:error("wal writer: append to ~s failed: ~p", [Path, Reason]),
            stop(1)
    end."""),
    BeamCase("erl_write_erofs", "filesystem", "erofs", "erl", """main(_) ->
    ok = file:write_file("@RO@/app.pid", os:getpid())."""),
    BeamCase("erl_emfile", "resource", "emfile", "erl", """open_all(_Path, N, Fds) when N > 300 -> {ok, Fds};
open_all(Path, N, Fds) ->
    case file:open(Path, [read, raw, binary]) of
        {ok, Fd} -> open_all(Path, N + 1, [Fd | Fds]);
        {error, Reason} ->
            [file:close(Fd) || Fd <- Fds],
            {error, N, Reason}
    end.

main(_) ->
    ok = file:write_file("@W@/chunk.bin", <<"x">>),
    case open_all("@W@/chunk.bin", 1, []) of
        {ok, Fds} -> io:format("~p~n", [length(Fds)]);
        {error, N, Reason} ->
            logger:error("segment reader: opening segment ~p failed: ~p", [N, Reason]),
            stop(1)
    end.""", nofile=64),
    BeamCase("erl_max_heap_size", "resource", "maximum heap size", "erl", """\
build(Acc) -> build([lists:seq(1, 100) | Acc]).

main(_) ->
    process_flag(trap_exit, true),
    Limit = #{size => 2000000, kill => true, error_logger => true},
    Pid = spawn_opt(fun() -> build([]) end, [link, {max_heap_size, Limit}]),
    receive
        {'EXIT', Pid, Reason} ->
            timer:sleep(300),
            logger:error("report builder ~p exited: ~p", [Pid, Reason]),
            stop(1)
    end."""),
    BeamCase("erl_consult_bad_term", "validation", "erl_parse|syntax error", "erl", """main(_) ->
    Path = "@W@/app45.config",
    ok = file:write_file(Path, <<"[{pool_size, 10} {timeout, 5000}].\\n">>),
    case file:consult(Path) of
        {ok, Terms} -> io:format("~p~n", [Terms]);
        {error, Reason} ->
            logger:error("cannot load ~s: ~s", [Path, file:format_error(Reason)]),
            stop(1)
    end."""),
    BeamCase("erl_list_to_integer", "validation", "not a textual representation|badarg", "erl", """main(_) ->
    Workers = list_to_integer(os:getenv("B45_WORKERS", "eight")),
    io:format("starting ~p workers~n", [Workers])."""),
    BeamCase("erl_badarith", "programming", "badarith", "erl", """samples() -> [].

average(Samples) -> lists:sum(Samples) / length(Samples).

main(_) ->
    Latencies = [L || {_, L} <- samples(), L > 0],
    io:format("avg ~p~n", [round(average(Latencies))])."""),
    BeamCase("erl_function_clause", "programming", "function_clause", "erl", """handle({order, Id}) -> {ok, Id};
handle({cancel, Id}) -> {ok, Id}.

main(_) ->
    Events = [{order, 1}, {refund, 2}],
    io:format("~p~n", [[handle(E) || E <- Events]])."""),
    BeamCase("erl_undef", "programming", "undef", "erl", """main(_) ->
    Totals = lists:sum_by(fun({_, V}) -> V end, [{a, 1}, {b, 2}]),
    io:format("~p~n", [Totals])."""),
    BeamCase("erl_badkey", "programming", "badkey", "erl", """main(_) ->
    Config = #{host => "127.0.0.1", pool_size => 10},
    Port = maps:get(port, Config),
    io:format("~p~n", [Port])."""),
    BeamCase("erl_case_clause", "programming", "case_clause", "erl", """state() -> draining.

main(_) ->
    Next = case state() of
        running -> stop;
        stopped -> start
    end,
    io:format("~p~n", [Next])."""),
    BeamCase("erl_syntax_error", "programming", "syntax error|compilation errors", "erl", """main(_) ->
    Nodes = [node_a, node_b
    io:format("~p~n", [Nodes])."""),
    BeamCase("erl_badarg_type", "programming", "badarg|bad argument", "erl", """pool_name() -> "worker_pool".

main(_) ->
    Key = atom_to_list(pool_name()),
    io:format("~s~n", [Key])."""),
]

ELIXIR: list[BeamCase] = [
    BeamCase("ex_httpc_refused", "network", "econnrefused", "exs", """:inets.start()
url = ~c"http://127.0.0.1:@CLOSED@/api/v1/jobs"
case :httpc.request(:get, {url, []}, [timeout: 2000], []) do
  {:ok, {{_, 200, _}, _, body}} -> IO.puts(body)
  {:error, reason} -> raise "job API request failed: #{inspect(reason)}"
end"""),
    BeamCase("ex_recv_closed", "network", "closed", "exs", """\
{:ok, sock} = :gen_tcp.connect(~c"127.0.0.1", @EMPTY@, [:binary, active: false], 2000)
:ok = :gen_tcp.send(sock, "PING\\r\\n")
{:ok, reply} = :gen_tcp.recv(sock, 0, 3000)
IO.puts(reply)"""),
    BeamCase("ex_recv_timeout", "network", "timeout", "exs", """require Logger
{:ok, sock} = :gen_tcp.connect(~c"127.0.0.1", @HANG@, [:binary, active: false], 2000)
:ok = :gen_tcp.send(sock, "GET /metrics HTTP/1.0\\r\\n\\r\\n")
case :gen_tcp.recv(sock, 0, 1500) do
  {:ok, data} -> IO.puts(data)
  {:error, reason} ->
    Logger.error("scrape of 127.0.0.1:@HANG@ failed: #{inspect(reason)}")
    Logger.flush()
    System.halt(1)
end"""),
    BeamCase("ex_nxdomain", "network", "nxdomain", "exs", """require Logger
case :gen_tcp.connect(~c"payments.svc.invalid", 443, [:binary, active: false], 3000) do
  {:ok, sock} -> :gen_tcp.close(sock)
  {:error, reason} ->
    Logger.error("PaymentGateway: connect to payments.svc.invalid:443 failed: #{inspect(reason)}")
    Logger.flush()
    System.halt(1)
end"""),
    BeamCase("ex_ssl_self_signed", "network", "certificate|tls_alert", "exs", """\
{:ok, _} = Application.ensure_all_started(:ssl)
opts = [verify: :verify_peer, cacerts: :public_key.cacerts_get(), active: false]
case :ssl.connect(~c"127.0.0.1", @TLS@, opts, 3000) do
  {:ok, sock} -> :ssl.close(sock)
  {:error, reason} -> raise "webhook delivery: TLS handshake failed: #{inspect(reason)}"
end"""),
    BeamCase("ex_httpc_reset", "network", "econnreset|closed", "exs", """:inets.start()
{:ok, {{_, 200, _}, _, body}} =
  :httpc.request(:post, {~c"http://127.0.0.1:@RESET@/v1/events", [], ~c"application/json", ~s({"n": 1})},
    [timeout: 3000], [])
IO.puts(body)"""),
    BeamCase("ex_httpc_500", "service", "500", "exs", """defmodule OrdersClient do
  def list do
    case :httpc.request(:get, {~c"@API@/plain500/v1/orders", []}, [timeout: 3000], []) do
      {:ok, {{_, 200, _}, _, body}} -> body
      {:ok, {{_, status, _}, _, body}} -> raise "GET /v1/orders failed with status #{status}: #{body}"
    end
  end
end

:inets.start()
OrdersClient.list()"""),
    BeamCase("ex_httpc_502", "service", "502", "exs", """:inets.start()
{:ok, {{_, 200, _}, _, body}} = :httpc.request(:get, {~c"@HTTP@/status/502", []}, [timeout: 3000], [])
IO.puts(body)"""),
    BeamCase("ex_httpc_503", "service", "503", "exs", """require Logger
:inets.start()
case :httpc.request(:get, {~c"@NORETRY@/k8s503/api/v1/namespaces/default/pods", []}, [timeout: 3000], []) do
  {:ok, {{_, 200, _}, _, body}} -> IO.puts(body)
  {:ok, {{_, status, _}, _, body}} ->
    Logger.error("Deployer.Watch: list pods returned #{status}: #{body}")
    Logger.flush()
    System.halt(1)
end"""),
    BeamCase("ex_httpc_401", "auth", "401", "exs", """defmodule Hex.Publish do
  def run(key) do
    headers = [{~c"authorization", String.to_charlist(key)}]
    case :httpc.request(:post, {~c"@API@/hex45_401/api/publish", headers, ~c"application/octet-stream", ""},
           [timeout: 3000], []) do
      {:ok, {{_, 201, _}, _, _}} -> :ok
      {:ok, {{_, status, reason}, _, body}} -> raise "publish failed: #{status} #{reason} #{body}"
    end
  end
end

:inets.start()
Hex.Publish.run("b45-revoked-key")"""),
    BeamCase("ex_httpc_403", "auth", "403", "exs", """:inets.start()
{:ok, {{_, 200, _}, _, body}} =
  :httpc.request(:get, {~c"@API@/k8s403/api/v1/namespaces/default/pods", []}, [timeout: 3000], [])
IO.puts(body)"""),
    BeamCase("ex_httpc_429", "resource", "429", "exs", """:inets.start()
case :httpc.request(:get, {~c"@API@/stripe429/v1/charges", []}, [timeout: 3000], []) do
  {:ok, {{_, 200, _}, _, body}} -> IO.puts(body)
  {:ok, {{_, status, _}, headers, body}} ->
    raise "charges sync: HTTP #{status} (retry-after #{:proplists.get_value(~c"retry-after", headers)}): #{body}"
end"""),
    BeamCase("ex_httpc_400", "validation", "400", "exs", """:inets.start()
{:ok, {{_, 201, _}, _, body}} =
  :httpc.request(:post, {~c"@API@/stripe400/v1/refunds", [], ~c"application/x-www-form-urlencoded",
    "amount=ten"}, [timeout: 3000], [])
IO.puts(body)"""),
    BeamCase("ex_read_enoent", "filesystem", "no such file|enoent", "exs", """\
config = File.read!("@W@/rel/overlays/vm.args")
IO.puts(config)"""),
    BeamCase("ex_write_eacces", "filesystem", "permission denied|eacces", "exs",
             """File.write!("@W@/locked45/exports/users.csv", "id,email\\n")""", user="nobody"),
    BeamCase("ex_write_enospc", "resource", "no space|enospc", "exs",
             """File.write!("@DISK@/cache-45.ets", :crypto.strong_rand_bytes(600_000))"""),
    BeamCase("ex_read_eisdir", "filesystem", "directory|eisdir", "exs", """path = "@W@/scripts45"
path |> File.read!() |> String.split("\\n")"""),
    BeamCase("ex_write_erofs", "filesystem", "read-only|erofs", "exs",
             """File.write!("@RO@/latest_remote_poll.txt", "2026-11-29")"""),
    BeamCase("ex_mkdir_eexist", "filesystem", "already exists|eexist", "exs", """File.mkdir!("@W@/scripts45")"""),
    BeamCase("ex_system_cmd_enoent", "filesystem", "enoent", "exs", """{out, 0} = System.cmd("deployctl45",
  ["rollout", "--env", "prod"])
IO.puts(out)"""),
    BeamCase("ex_emfile", "resource", "emfile|too many open files", "exs", """\
path = "@W@/part.bin"
File.write!(path, "x")

opened =
  Enum.reduce_while(1..300, [], fn _, files ->
    case File.open(path, [:read]) do
      {:ok, file} -> {:cont, [file | files]}
      {:error, reason} -> {:halt, {reason, files}}
    end
  end)

case opened do
  {reason, files} ->
    Enum.each(files, &File.close/1)
    raise File.Error, reason: reason, action: "open", path: path

  files ->
    IO.puts(length(files))
end""", nofile=64),
    BeamCase("ex_max_heap_size", "resource", "maximum heap size|max_heap_size", "exs", """\
defmodule Report do
  def build(acc), do: build([Enum.to_list(1..100) | acc])
end

defmodule Runner do
  require Logger

  def run do
    {pid, ref} =
      spawn_monitor(fn ->
        Process.flag(:max_heap_size, %{size: 2_000_000, kill: true, error_logger: true})
        Report.build([])
      end)

    receive do
      {:DOWN, ^ref, :process, ^pid, reason} -> finish(pid, reason)
    end
  end

  defp finish(pid, reason) do
    Process.sleep(300)
    Logger.flush()
    raise "report builder #{inspect(pid)} exited: #{inspect(reason)}"
  end
end

Runner.run()"""),
    BeamCase("ex_to_integer", "validation", "ArgumentError", "exs", """port = System.get_env("B45_PORT", "8080x")
IO.puts(String.to_integer(port))"""),
    BeamCase("ex_date_iso", "validation", "invalid_date|cannot parse", "exs", """\
cutoff = Date.from_iso8601!("2026-02-30")
IO.inspect(cutoff)"""),
    BeamCase("ex_integer_parse", "validation", "ArgumentError", "exs", """\
raw = System.get_env("B45_MAX_RETRIES", "3 times")
retries =
  case Integer.parse(raw) do
    {n, ""} -> n
    _ -> raise ArgumentError, "MAX_RETRIES must be an integer, got: #{inspect(raw)}"
  end
IO.puts(retries)"""),
    BeamCase("ex_uri_invalid", "validation", "URI.Error", "exs", """\
callback = URI.new!("https://hooks.example.org/b45/on deploy")
IO.puts(callback)"""),
    BeamCase("ex_version_invalid", "validation", "InvalidVersionError", "exs", """required = Version.parse!("1.4")
IO.puts(Version.compare(required, "1.5.0"))"""),
    BeamCase("ex_base64_invalid", "validation", "ArgumentError", "exs", """secret = Base.decode64!("c2VjcmV0LWtleQ==*")
IO.puts(byte_size(secret))"""),
    BeamCase("ex_match_error", "programming", "MatchError", "exs", """\
nodes = [%{name: "a", role: :replica}, %{name: "b", role: :replica}]
[primary | _] = Enum.filter(nodes, &(&1.role == :primary))
IO.puts(primary.name)"""),
    BeamCase("ex_function_clause", "programming", "FunctionClauseError", "exs", """defmodule Billing do
  def charge(%{amount: amount}) when is_integer(amount) and amount > 0, do: {:ok, amount}
end

Billing.charge(%{amount: "12.50"})"""),
    BeamCase("ex_undefined_function", "programming", "UndefinedFunctionError", "exs", """\
items = [%{price: 3}, %{price: 4}]
IO.puts(Enum.sum_by(items, & &1.price))"""),
    BeamCase("ex_arithmetic", "programming", "ArithmeticError", "exs", """defmodule Stats do
  def mean(xs), do: Enum.sum(xs) / length(xs)
  def ratio(a, b), do: div(a, b)
end

IO.puts(Stats.ratio(Enum.count([]), Enum.count([])))"""),
    BeamCase("ex_key_error", "programming", "KeyError", "exs", """config = %{pool_size: 10, host: "127.0.0.1"}
IO.puts(config.timeout)"""),
    BeamCase("ex_compile_error", "programming", "CompileError|undefined", "exs", """defmodule Release.Tasks do
  def migrate do
    for repo <- repos(), do: IO.puts(inspect(repo))
  end
end

Release.Tasks.migrate()"""),
    BeamCase("ex_syntax_error", "programming", "SyntaxError|TokenMissingError", "exs", """defmodule Seeds do
  def run do
    Enum.each(1..3, fn i ->
      IO.puts(i)
  end
end"""),
    BeamCase("ex_protocol_undefined", "programming", "Protocol.UndefinedError", "exs", """defmodule Feed do
  def entries, do: nil
end

for e <- Feed.entries(), do: IO.puts(e)"""),
    BeamCase("ex_elem_out_of_range", "programming", "ArgumentError", "exs", """defmodule Probe do
  def reply, do: {:ok, 200}
end

IO.puts(elem(Probe.reply(), 2))"""),
]


def blind45_records(env: Env) -> list[Record]:
    api = cloud_api(env)
    tls = self_signed_tls(env)
    disk = mount_tmpfs(env, "disk45", "size=256k")
    ro = mount_tmpfs(env, "ro45", "size=64k,ro")
    scripts = script_dir(env)
    locked = env.tmp / "locked45"
    (locked / "exports").mkdir(parents=True)
    inetrc = env.tmp / "inetrc45"
    inetrc.write_text("{lookup, [file]}.\n")  # names resolve from /etc/hosts only: `.invalid` never leaves the host
    inetrc.chmod(0o644)
    marks = {"@HTTP@": env.http, "@API@": api, "@NORETRY@": no_retry_api(env), "@CLOSED@": str(env.closed_port),
             "@RESET@": str(env.reset_port),
             "@HANG@": str(env.hang_port), "@EMPTY@": str(env.empty_port), "@CLOSE@": str(env.close_port),
             "@TLS@": str(tls), "@W@": str(env.tmp), "@DISK@": str(disk), "@RO@": str(ro)}

    def fill(text: str) -> str:
        for mark, value in marks.items():
            text = text.replace(mark, value)
        return text

    cases = beam_tool_cases(ERLANG, scripts, fill) + beam_tool_cases(ELIXIR, scripts, fill)
    prefix = f"export ERL_INETRC={inetrc} ERL_CRASH_DUMP_SECONDS=0; "
    out: list[Record] = []
    for source, names in (("erlang45", {c.name for c in ERLANG}), ("elixir45", {c.name for c in ELIXIR})):
        out += tool_records([(n, c, t, prefix + cmd) for n, c, t, cmd in cases if n in names], source, env.tmp,
                            timeout=40)
    return out


if __name__ == "__main__":
    write_batch(blind45_records)


__all__ = ["BLIND45_SOURCES", "blind45_records"]
