"""Hundred-and-seventh batch of blind provokers: less common runtimes and shells not seen before, each running a
small program of a ledger deployment (blind107_support) that fails for a cause provoked here. Raku (a missing
export, a state file `nobody` cannot write, a full tmpfs, a refused port, an undeclared routine, a type check, a
method on Any, a compile error, a non-numeric CSV field, a memory limit); GNU CLISP and ECL (missing and unreadable
files, an undefined function and variable, a type error, PARSE-INTEGER of a CSV field, a truncated s-expression
config, a refused socket, a full disk); Regina REXX (a label not found, an unmatched quote, a bad call, a
non-numeric CSV field, a memory limit); zsh, ksh and fish (missing and unwritable redirections, full and read-only
mounts, noclobber, refused TCP, parse errors, division by zero, the fd and process limits); LuaJIT (a missing
file, nil calls and indexes, a syntax error, a memory limit, a full disk); CoffeeScript on Node.js (ENOENT,
EACCES, ENOSPC, a truncated JSON config, ECONNREFUSED, 401 and 503 from the local status server, a TypeError, a
compile error); Emacs in batch mode (missing and unreadable files, a void function, a wrong-type argument, JSON
and Lisp reader errors, read-only and full mounts, a refused connection)."""

from __future__ import annotations

from blind107_support import filler, prepare_site
from checked import ToolCase, tool_records
from common import Env, Record, write_batch

BLIND107_SOURCES = frozenset({"raku107", "clisp107", "ecl107", "rexx107", "zsh107", "ksh107", "fish107",
                              "luajit107", "coffeescript107", "emacs107"})



PROGRAMS: dict[str, str] = {
    # ------------------------------------------------------------------ Raku
    "raku/import-orders.raku": """\
my $export = '/srv/ledger/exports/2026-11-29.csv';
my @rows = $export.IO.lines.skip(1).map(*.split(','));
say "imported {+@rows} rows";
""",
    "raku/save-sync-state.raku": """\
my $state = '@ROOT@/var/lib/ledger/last-sync.json';
spurt $state, '{"last_sync": "' ~ DateTime.now ~ '", "cursor": 88412}';
say "saved $state";
""",
    "raku/export-ledger.raku": """\
sub MAIN(Str $dir) {
    my $out = "$dir/ledger-2026-11.csv";
    my $fh = open $out, :w;
    for ^20000 -> $i { $fh.say: "LED-{$i.fmt('%05d')},3,19.90,EUR" }
    $fh.close;
    say "wrote $out";
}
""",
    "raku/ledger-feed.raku": """\
my $feed = IO::Socket::INET.new(:host<127.0.0.1>, :port(@CLOSED@));
$feed.print("SUBSCRIBE ledger.entries\\r\\n");
say $feed.get;
""",
    "raku/parse-orders.raku": """\
sub parse-ledger-row(Str $line) { $line.split(',') }
for '@ROOT@/data/imports/orders-2026-11-29.csv'.IO.lines.skip(1) -> $line {
    say parse-ledger-line($line);
}
""",
    "raku/charge.raku": """\
sub charge(Int $cents, Str :$currency = 'EUR') { say "charging $cents $currency" }
my %order = id => 88412, total => '1999';
charge(%order<total>);
""",
    "raku/dsn.raku": """\
my %config = database => { host => 'db-ledger-01.internal', port => 5432 };
my $dsn = 'pg://' ~ %config<db>.host ~ '/ledger';
say $dsn;
""",
    "raku/limits.raku": """\
my %limits = (daily => 500, monthly => 5000;
for %limits.kv -> $k, $v { say "$k: $v" }
""",
    "raku/order-total.raku": """\
my $total = 0;
for '@ROOT@/data/imports/orders-2026-11-29.csv'.IO.lines.skip(1) -> $line {
    my ($sku, $qty, $price) = $line.split(',');
    $total += $qty * $price;
}
say "total: $total";
""",
    "raku/cache-warm.raku": """\
my @cache;
for ^50_000_000 -> $i { @cache.push: "ledger-entry-$i" }
say +@cache;
""",
    # ------------------------------------------------------------------ Common Lisp (CLISP and ECL)
    "lisp/load-rates.lisp": """\
(defun load-rates (path)
  (with-open-file (in path) (read in)))
(print (load-rates "/srv/ledger/rates/eur-2026-11-29.sexp"))
""",
    "lisp/read-secrets.lisp": """\
(defun read-secrets (path)
  (with-open-file (in path)
    (loop for line = (read-line in nil) while line collect line)))
(print (length (read-secrets "@ROOT@/etc/ledger/secrets.env")))
""",
    "lisp/invoice-total.lisp": """\
(defun invoice-total (lines)
  (reduce #'+ (mapcar #'line-amount lines)))
(print (invoice-total '((:sku "LED-1042" :qty 3 :price 1990))))
""",
    "lisp/next-port.lisp": """\
(defparameter *ledger-port* "5432")
(format t "replica port: ~a~%" (1+ *ledger-port*))
""",
    "lisp/import-orders.lisp": """\
(defun split-csv (line)
  (loop with start = 0
        for pos = (position #\\, line :start start)
        collect (subseq line start pos)
        while pos do (setf start (1+ pos))))
(with-open-file (in "@ROOT@/data/imports/orders-2026-11-29.csv")
  (read-line in)
  (loop for line = (read-line in nil) while line
        sum (parse-integer (second (split-csv line))) into qty
        finally (format t "units: ~a~%" qty)))
""",
    "lisp/rates-config.lisp": """\
(with-open-file (in "@ROOT@/etc/ledger/rates.sexp")
  (let ((config (read in)))
    (format t "base currency: ~a~%" (getf config :currency))))
""",
    "lisp/feed.lisp": """\
(let ((s (socket:socket-connect @CLOSED@ "127.0.0.1" :timeout 5)))
  (format s "SUBSCRIBE ledger.entries~%")
  (print (read-line s)))
""",
    "lisp/export.lisp": """\
(with-open-file (out "@FULL@/ledger-2026-11.csv" :direction :output :if-exists :supersede)
  (dotimes (i 20000)
    (format out "LED-~5,'0d,3,19.90,EUR~%" i)))
(print :done)
""",
    "lisp/retry.lisp": """\
(defun sync-batch (batch)
  (loop for entry in batch count (getf entry :posted)))
(format t "posted ~a of ~a~%" (sync-batch *pending-entries*) 12)
""",
    # ------------------------------------------------------------------ Regina REXX
    "rexx/totals.rex": """\
/* REXX: nightly invoice totals */
parse arg month
total = 0
say 'Totals for' month':' total
if total = 0 then signal retry_export
exit 0

retry_exports:
  say 'retrying export for' month
  exit 1
""",
    "rexx/banner.rex": """\
/* REXX: print the run banner */
say 'Ledger close for November 2026
exit 0
""",
    "rexx/sku.rex": """\
/* REXX: SKU prefix report */
sku = 'LED-1042'
say 'prefix:' substr(sku, 0, 3)
exit 0
""",
    "rexx/order-total.rex": """\
/* REXX: sum an order import */
file = '@ROOT@/data/imports/orders-2026-11-29.csv'
call linein file
total = 0
do while lines(file) > 0
  parse value linein(file) with sku ',' qty ',' price
  total = total + qty * price
end
say 'order total:' total
exit 0
""",
    "rexx/padding.rex": """\
/* REXX: build the fixed-width statement file */
record = ''
do i = 1 to 40
  record = record || copies('LED-1042;3;19.90;EUR ', 2000000)
end
say length(record)
exit 0
""",
    # ------------------------------------------------------------------ zsh
    "zsh/import-orders.zsh": """\
#!/usr/bin/zsh
setopt err_exit
export_file=/srv/ledger/exports/2026-11-29.csv
integer n=0
while IFS=, read -r sku qty price; do (( n++ )); done < $export_file
print "imported $n rows"
""",
    "zsh/rotate-log.zsh": """\
#!/usr/bin/zsh
setopt err_exit
log=@ROOT@/var/log/ledger/rotate.log
print "rotated at $(date -Is)" >> $log
print done
""",
    "zsh/export.zsh": """\
#!/usr/bin/zsh
setopt err_exit
out=$1/ledger-2026-11.csv
for i in {1..20000}; do print -r -- "LED-$i,3,19.90,EUR"; done > $out
print "wrote $out"
""",
    "zsh/feed.zsh": """\
#!/usr/bin/zsh
zmodload zsh/net/tcp
ztcp 127.0.0.1 @CLOSED@ || exit 1
print -u $REPLY "SUBSCRIBE ledger.entries"
""",
    "zsh/ledgerctl.zsh": """\
#!/usr/bin/zsh
case $1 in
  sync) print syncing ;;
  rotate) print rotating
""",
    "zsh/open-shards.zsh": """\
#!/usr/bin/zsh
setopt err_exit
ulimit -n 24
typeset -a fds
for shard in {1..64}; do
  exec {fd}<@ROOT@/etc/ledger/settings.json
  fds+=($fd)
done
print "opened ${#fds} shards"
""",
    "zsh/lock-invoice.zsh": """\
#!/usr/bin/zsh
setopt err_exit noclobber
print $$ > @ROOT@/var/spool/ledger/invoice-88412.lock
print "locked invoice 88412"
""",
    "zsh/parallel-post.zsh": """\
#!/usr/bin/zsh
ulimit -u 4
for batch in {1..12}; do
  sleep 1 &
done
wait
""",
    # ------------------------------------------------------------------ ksh
    "ksh/import-orders.ksh": """\
#!/usr/bin/ksh
n=0
while IFS=, read -r sku qty price; do (( n++ )); done < /srv/ledger/exports/2026-11-29.csv || exit 1
print "imported $n rows"
""",
    "ksh/feed.ksh": """\
#!/usr/bin/ksh
set -e
exec 3<>/dev/tcp/127.0.0.1/@CLOSED@
print -u3 "SUBSCRIBE ledger.entries"
""",
    "ksh/cleanup.ksh": """\
#!/usr/bin/ksh
for f in @ROOT@/var/spool/ledger/*.lock; do
  if [[ -f $f ]]; then
    rm -f "$f"
done
print cleaned
""",
    "ksh/average.ksh": """\
#!/usr/bin/ksh
total_cents=1284500 days=0
(( per_day = total_cents / days ))
print "per day: $per_day"
""",
    "ksh/export.ksh": """\
#!/usr/bin/ksh
set -e
for (( i = 0; i < 20000; i++ )); do print -r -- "LED-$i,3,19.90,EUR"; done > @FULL@/ledger-2026-11.csv
print wrote
""",
    # ------------------------------------------------------------------ fish
    "fish/import-orders.fish": """\
set -l n 0
while read -l line
    set n (math $n + 1)
end < /srv/ledger/exports/2026-11-29.csv
or exit 1
echo "imported $n rows"
""",
    "fish/rotate-log.fish": """\
echo "rotated at "(date -Is) >> @ROOT@/var/log/ledger/rotate.log
or exit 1
echo done
""",
    "fish/sync.fish": """\
function sync_ledger
    if test -f @ROOT@/var/spool/ledger/invoice-88412.lock
        echo "invoice 88412 is locked"
        return 1
    echo syncing
end
sync_ledger
""",
    "fish/average.fish": """\
set -l total_cents 1284500
set -l days 0
set -l per_day (math "$total_cents / $days")
or exit 1
echo "per day: $per_day"
""",
    "fish/export.fish": """\
string repeat -n 20000 "LED-1042,3,19.90,EUR
" > @FULL@/ledger-2026-11.csv
or exit 1
echo wrote
""",
    "fish/report.fish": """\
echo "ledger report 2026-11" > @RO@/reports/ledger-2026-11.txt
or exit 1
echo wrote
""",
    # ------------------------------------------------------------------ LuaJIT
    "lua/import-orders.lua": """\
local f = assert(io.open("/srv/ledger/exports/2026-11-29.csv", "r"))
local n = 0
for _ in f:lines() do n = n + 1 end
print("imported " .. n .. " rows")
""",
    "lua/post.lua": """\
local ledger = { entries = {} }
function ledger.post(entry) table.insert(ledger.entries, entry) end
ledger.post_entry({ sku = "LED-1042", qty = 3, cents = 5970 })
""",
    "lua/dsn.lua": """\
local cfg = { database = { host = "db-ledger-01.internal", port = 5432 } }
local dsn = string.format("pg://%s:%d/ledger", cfg.db.host, cfg.db.port)
print(dsn)
""",
    "lua/reconcile.lua": """\
local function reconcile(a, b)
  for i = 1, #a do
    if a[i] ~= b[i] then
      print("mismatch at " .. i)
  end
end
reconcile({1, 2}, {1, 3})
""",
    "lua/cache.lua": """\
local cache = {}
for i = 1, 1e9 do cache[i] = string.rep("x", 48) .. i end
print(#cache)
""",
    "lua/export.lua": """\
local f = assert(io.open("@FULL@/ledger-2026-11.csv", "w"))
for i = 1, 20000 do assert(f:write("LED-", i, ",3,19.90,EUR\\n")) end
assert(f:close())
""",
    # ------------------------------------------------------------------ CoffeeScript
    "coffee/settings.coffee": """\
config =
  database: {host: 'db-ledger-01.internal', port: 5432
  pool: {min: 2, max: 20}
console.log config
""",
    "coffee/template.coffee": """\
fs = require 'fs'
template = fs.readFileSync '/srv/ledger/templates/invoice.html', 'utf8'
console.log template.length
""",
    "coffee/load-config.coffee": """\
fs = require 'fs'
settings = JSON.parse fs.readFileSync('@ROOT@/etc/ledger/settings.json', 'utf8')
console.log "db host: #{settings.database.host}"
""",
    "coffee/sync.coffee": """\
http = require 'http'
http.get 'http://127.0.0.1:@CLOSED@/api/v1/ledger/sync', (res) ->
  console.log "sync: #{res.statusCode}"
""",
    "coffee/fetch-rates.coffee": """\
http = require 'http'
[url] = process.argv[2..]
http.get url, (res) ->
  if res.statusCode isnt 200
    throw new Error "rates: GET #{url} -> #{res.statusCode} #{res.statusMessage}"
  res.pipe process.stdout
""",
    "coffee/summary.coffee": """\
orders = [{id: 88412, total: 19.9}, {id: 88413}]
for order in orders
  console.log "#{order.id}: #{order.total.toFixed 2}"
""",
    "coffee/export.coffee": """\
fs = require 'fs'
rows = ("LED-#{i},3,19.90,EUR" for i in [1..20000]).join '\\n'
fs.writeFileSync '@FULL@/ledger-2026-11.csv', rows
""",
    "coffee/audit-log.coffee": """\
fs = require 'fs'
fs.appendFileSync '@ROOT@/var/log/ledger/audit.log', "#{new Date().toISOString()} sync started\\n"
""",
    # ------------------------------------------------------------------ Emacs Lisp (batch)
    "elisp/render-invoice.el": """\
(with-temp-buffer
  (insert-file-contents "/srv/ledger/templates/invoice.org")
  (princ (buffer-string)))
""",
    "elisp/read-secrets.el": """\
(with-temp-buffer
  (insert-file-contents "@ROOT@/etc/ledger/secrets.env")
  (princ (count-lines (point-min) (point-max))))
""",
    "elisp/format-amount.el": """\
(defun ledger-format-cents (cents) (format "%d.%02d" (/ cents 100) (% cents 100)))
(princ (ledger-format-amount 1999))
""",
    "elisp/total.el": """\
(let ((lines '(("LED-1042" 3 1990) ("LED-2210" 12 "450"))))
  (princ (apply #'+ (mapcar (lambda (l) (* (nth 1 l) (nth 2 l))) lines))))
""",
    "elisp/settings.el": """\
(let ((settings (with-temp-buffer
                  (insert-file-contents "@ROOT@/etc/ledger/settings.json")
                  (json-parse-string (buffer-string) :object-type 'alist))))
  (princ (alist-get 'database settings)))
""",
    "elisp/rates.el": """\
(let ((rates (with-temp-buffer
               (insert-file-contents "@ROOT@/etc/ledger/rates.sexp")
               (read (current-buffer)))))
  (princ (plist-get rates :currency)))
""",
    "elisp/report.el": """\
(write-region "ledger report 2026-11\\n" nil "@RO@/reports/ledger-2026-11.org")
""",
    "elisp/export.el": """\
(with-temp-buffer
  (dotimes (i 20000) (insert (format "LED-%05d,3,19.90,EUR\\n" i)))
  (write-region nil nil "@FULL@/ledger-2026-11.csv"))
""",
    "elisp/feed.el": """\
(let ((proc (open-network-stream "ledger-feed" nil "127.0.0.1" @CLOSED@)))
  (process-send-string proc "SUBSCRIBE ledger.entries\\n"))
""",
}

APP = "@ROOT@/app"
MEM = "ulimit -v 1000000; "

CASES: dict[str, list[ToolCase]] = {
    "raku107": [
        ("raku_lines_missing", "filesystem", "No such file", f"raku {APP}/raku/import-orders.raku"),
        ("raku_spurt_permission", "filesystem", "Permission denied",
         f"@NOBODY@ raku {APP}/raku/save-sync-state.raku"),
        ("raku_write_full", "resource", "No space left", f"raku {APP}/raku/export-ledger.raku @FULL@"),
        ("raku_socket_refused", "network", "refused", f"raku {APP}/raku/ledger-feed.raku"),
        ("raku_undeclared_routine", "programming", "Undeclared routine", f"raku {APP}/raku/parse-orders.raku"),
        ("raku_type_check", "programming", "Type check failed|will never work", f"raku {APP}/raku/charge.raku"),
        ("raku_method_on_any", "programming", "No such method", f"raku {APP}/raku/dsn.raku"),
        ("raku_compile_error", "programming", "Error while compiling", f"raku {APP}/raku/limits.raku"),
        ("raku_csv_not_numeric", "validation", "Cannot convert string to number",
         f"raku {APP}/raku/order-total.raku"),
        ("raku_memory_limit", "resource", "memory|allocat", MEM + f"raku {APP}/raku/cache-warm.raku"),
    ],
    "clisp107": [
        ("clisp_open_missing", "filesystem", "does not exist|No such file",
         f"clisp -q {APP}/lisp/load-rates.lisp"),
        ("clisp_open_permission", "filesystem", "Permission denied|EACCES",
         f"@NOBODY@ clisp -q {APP}/lisp/read-secrets.lisp"),
        ("clisp_undefined_function", "programming", "undefined function", f"clisp -q {APP}/lisp/invoice-total.lisp"),
        ("clisp_not_a_number", "programming", "not a number", f"clisp -q {APP}/lisp/next-port.lisp"),
        ("clisp_parse_integer_csv", "validation", "integer syntax", f"clisp -q {APP}/lisp/import-orders.lisp"),
        ("clisp_read_truncated_config", "validation", "ends within|end of file|EOF",
         f"clisp -q {APP}/lisp/rates-config.lisp"),
        ("clisp_socket_refused", "network", "refused", f"clisp -q {APP}/lisp/feed.lisp"),
        ("clisp_write_full", "resource", "disk is full|No space", f"clisp -q {APP}/lisp/export.lisp"),
    ],
    "ecl107": [
        ("ecl_parse_integer_csv", "validation", "integer|parse",
         f"ecl --norc --shell {APP}/lisp/import-orders.lisp"),
        ("ecl_unbound_variable", "programming", "unbound", f"ecl --norc --shell {APP}/lisp/retry.lisp"),
        ("ecl_read_truncated_config", "validation", "end of file|EOF|unexpected end",
         f"ecl --norc --shell {APP}/lisp/rates-config.lisp"),
    ],
    "rexx107": [
        ("rexx_label_not_found", "programming", "Label not found", f"rexx {APP}/rexx/totals.rex 2026-11"),
        ("rexx_unmatched_quote", "programming", "Unmatched", f"rexx {APP}/rexx/banner.rex"),
        ("rexx_incorrect_call", "programming", "Incorrect call", f"rexx {APP}/rexx/sku.rex"),
        ("rexx_csv_not_numeric", "validation", "arithmetic conversion|Non-numeric",
         f"rexx {APP}/rexx/order-total.rex"),
        ("rexx_memory_limit", "resource", "resources exhausted|memory|allocat",
         "ulimit -v 400000; " + f"rexx {APP}/rexx/padding.rex"),
    ],
    "zsh107": [
        ("zsh_redirect_missing", "filesystem", "no such file", f"zsh {APP}/zsh/import-orders.zsh"),
        ("zsh_append_permission", "filesystem", "permission denied", f"@NOBODY@ zsh {APP}/zsh/rotate-log.zsh"),
        ("zsh_write_full", "resource", "no space left", f"zsh {APP}/zsh/export.zsh @FULL@"),
        ("zsh_ztcp_refused", "network", "refused", f"zsh {APP}/zsh/feed.zsh"),
        ("zsh_parse_error", "programming", "parse error", f"zsh {APP}/zsh/ledgerctl.zsh sync"),
        ("zsh_fd_limit", "resource", "too many open files", f"zsh {APP}/zsh/open-shards.zsh"),
        ("zsh_noclobber", "filesystem", "file exists", f"zsh {APP}/zsh/lock-invoice.zsh"),
        ("zsh_fork_limit", "resource", "fork failed|resource temporarily unavailable",
         f"cd /tmp && @NOBODY@ zsh {APP}/zsh/parallel-post.zsh"),
    ],
    "ksh107": [
        ("ksh_redirect_missing", "filesystem", "No such file", f"ksh {APP}/ksh/import-orders.ksh"),
        ("ksh_dev_tcp_refused", "network", "refused", f"ksh {APP}/ksh/feed.ksh"),
        ("ksh_syntax_unmatched", "programming", "syntax error", f"ksh {APP}/ksh/cleanup.ksh"),
        ("ksh_divide_by_zero", "programming", "divide by zero|division by zero", f"ksh {APP}/ksh/average.ksh"),
        ("ksh_write_full", "resource", "No space left", f"ksh {APP}/ksh/export.ksh"),
    ],
    "fish107": [
        ("fish_redirect_missing", "filesystem", "does not exist|No such file", f"fish {APP}/fish/import-orders.fish"),
        ("fish_append_permission", "filesystem", "Permission denied", f"@NOBODY@ fish {APP}/fish/rotate-log.fish"),
        ("fish_missing_end", "programming", "Missing end", f"fish {APP}/fish/sync.fish"),
        ("fish_math_division_by_zero", "programming", "Division by zero", f"fish {APP}/fish/average.fish"),
        ("fish_write_full", "resource", "No space left", f"fish {APP}/fish/export.fish"),
        ("fish_write_read_only", "filesystem", "Read-only file system", f"fish {APP}/fish/report.fish"),
    ],
    "luajit107": [
        ("luajit_open_missing", "filesystem", "No such file", f"luajit {APP}/lua/import-orders.lua"),
        ("luajit_call_nil_field", "programming", "attempt to call", f"luajit {APP}/lua/post.lua"),
        ("luajit_index_nil_field", "programming", "attempt to index", f"luajit {APP}/lua/dsn.lua"),
        ("luajit_syntax_missing_end", "programming", "expected", f"luajit {APP}/lua/reconcile.lua"),
        ("luajit_memory_limit", "resource", "not enough memory", MEM + f"luajit {APP}/lua/cache.lua"),
        ("luajit_write_full", "resource", "No space left", f"luajit {APP}/lua/export.lua"),
    ],
    "coffeescript107": [
        ("coffee_compile_error", "programming", "error:", f"@COFFEE@ {APP}/coffee/settings.coffee"),
        ("coffee_read_missing", "filesystem", "ENOENT", f"@COFFEE@ {APP}/coffee/template.coffee"),
        ("coffee_json_truncated", "validation", "JSON", f"@COFFEE@ {APP}/coffee/load-config.coffee"),
        ("coffee_http_refused", "network", "ECONNREFUSED", f"@COFFEE@ {APP}/coffee/sync.coffee"),
        ("coffee_http_503", "service", "Service Unavailable",
         f"@COFFEE@ {APP}/coffee/fetch-rates.coffee '@HTTP@/status/503'"),
        ("coffee_http_401", "auth", "Unauthorized",
         f"@COFFEE@ {APP}/coffee/fetch-rates.coffee '@HTTP@/status/401'"),
        ("coffee_type_error", "programming", "TypeError", f"@COFFEE@ {APP}/coffee/summary.coffee"),
        ("coffee_write_full", "resource", "ENOSPC", f"@COFFEE@ {APP}/coffee/export.coffee"),
        ("coffee_append_permission", "filesystem", "EACCES",
         f"cd /tmp && HOME=/tmp @NOBODY@ @COFFEE@ {APP}/coffee/audit-log.coffee"),
    ],
    "emacs107": [
        ("emacs_insert_missing", "filesystem", "No such file", f"emacs --batch -Q -l {APP}/elisp/render-invoice.el"),
        ("emacs_insert_permission", "filesystem", "Permission denied",
         f"cd /tmp && HOME=/tmp @NOBODY@ emacs --batch -Q -l {APP}/elisp/read-secrets.el"),
        ("emacs_void_function", "programming", "void", f"emacs --batch -Q -l {APP}/elisp/format-amount.el"),
        ("emacs_wrong_type", "programming", "wrong-type-argument", f"emacs --batch -Q -l {APP}/elisp/total.el"),
        ("emacs_json_parse", "validation", "json-end-of-file|json-parse-error",
         f"emacs --batch -Q -l {APP}/elisp/settings.el"),
        ("emacs_read_end_of_file", "validation", "end-of-file", f"emacs --batch -Q -l {APP}/elisp/rates.el"),
        ("emacs_write_read_only", "filesystem", "Read-only|read-only", f"emacs --batch -Q -l {APP}/elisp/report.el"),
        ("emacs_write_full", "resource", "No space|space left", f"emacs --batch -Q -l {APP}/elisp/export.el"),
        ("emacs_connect_refused", "network", "refused", f"emacs --batch -Q -l {APP}/elisp/feed.el"),
    ],
}


def blind107_records(env: Env) -> list[Record]:
    site = prepare_site(env, PROGRAMS)
    fill = filler(env, site)
    out: list[Record] = []
    for source, cases in CASES.items():
        out += tool_records(cases, source, env.tmp, fill=fill, timeout=120)
    return out


if __name__ == "__main__":
    write_batch(blind107_records)


__all__ = ["BLIND107_SOURCES", "PROGRAMS", "blind107_records"]
