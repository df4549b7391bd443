"""Program texts of batch 99: each case writes one small program (SBCL, Vala, Gforth, Chicken Scheme) into the
batch's work directory and runs it with a shell command. Placeholders filled at run time: @W@ the work
directory, @RO@ a read-only tmpfs, @FULL@ a 16 KiB tmpfs, @CLOSED@ a closed port, @HANG@ a port that never
answers, @HTTP@ the local status server's port, @SECRET@ a root-only file."""

from __future__ import annotations

AS_NOBODY = "setpriv --reuid=65534 --regid=65534 --clear-groups"

# --------------------------------------------------------------------------- SBCL

SBCL = "sbcl --noinform --disable-ldb --non-interactive --no-userinit --no-sysinit"

_LISP_HTTP = """(require :sb-bsd-sockets)
(defun http-get (path)
  (let ((s (make-instance 'sb-bsd-sockets:inet-socket :type :stream :protocol :tcp)))
    (sb-bsd-sockets:socket-connect s #(127 0 0 1) @HTTP@)
    (let ((stream (sb-bsd-sockets:socket-make-stream s :input t :output t :buffering :full)))
      (format stream "GET ~a HTTP/1.0~c~cHost: 127.0.0.1~c~c~c~c" path
              #\\Return #\\Newline #\\Return #\\Newline #\\Return #\\Newline)
      (finish-output stream)
      (let ((status (string-trim '(#\\Return) (read-line stream))))
        (unless (search " 200 " status)
          (error "GET http://127.0.0.1:@HTTP@~a failed: ~a" path status))
        status))))
(http-get "PATH")
"""

#: name, category, token, file name, program, command
SBCL_CASES: list[tuple[str, str, str, str, str, str]] = [
    ("sbcl_unbound_variable", "programming", "UNBOUND-VARIABLE|unbound", "unbound.lisp",
     "(defun invoice-total (lines) (* (reduce #'+ lines) *vat-rate*))\n(print (invoice-total '(10 20 30)))\n",
     f"{SBCL} --load unbound.lisp"),
    ("sbcl_undefined_function", "programming", "UNDEFINED-FUNCTION|undefined function", "undef.lisp",
     "(defun ship (order) (compute-shipping-cost (getf order :weight)))\n(print (ship '(:id 4 :weight 2.5)))\n",
     f"{SBCL} --load undef.lisp"),
    ("sbcl_type_error", "programming", "TYPE-ERROR|is not of type", "type.lisp",
     "(defun total (items) (reduce #'+ items :key #'cdr))\n(print (total (list (cons :a 1) (cons :b \"2\"))))\n",
     "sbcl --script type.lisp"),
    ("sbcl_division_by_zero", "programming", "DIVISION-BY-ZERO", "div.lisp",
     "(defun average (xs) (/ (reduce #'+ xs) (length xs)))\n(print (average '()))\n",
     "sbcl --script div.lisp"),
    ("sbcl_stack_exhausted", "programming", "Control stack exhausted|STACK-EXHAUSTED", "stack.lisp",
     "(defun depth (node) (1+ (depth (cdr node))))\n(print (depth (list 1 2 3)))\n",
     "sbcl --script stack.lisp"),
    ("sbcl_compile_read_error", "programming", "READ error|end of file|READER-ERROR", "broken.lisp",
     "(defun parse-header (line)\n  (let ((pos (position #\\: line)))\n    (subseq line 0 pos))\n",
     f"{SBCL} --eval '(when (nth-value 2 (compile-file \"broken.lisp\")) (sb-ext:exit :code 1))'"),
    ("sbcl_file_missing", "filesystem", "does not exist|No such file", "missing.lisp",
     "(with-open-file (in \"/srv/app99/config/settings.sexp\") (print (read in)))\n",
     "sbcl --script missing.lisp"),
    ("sbcl_file_read_only", "filesystem", "Read-only", "ro.lisp",
     "(with-open-file (out \"@RO@/report.txt\" :direction :output :if-exists :supersede)\n"
     "  (format out \"total ~a~%\" 42))\n",
     "sbcl --script ro.lisp"),
    ("sbcl_permission_denied", "filesystem", "Permission denied", "perm.lisp",
     "(with-open-file (in \"@SECRET@\") (print (read-line in)))\n",
     f"{AS_NOBODY} env HOME=/tmp sbcl --script perm.lisp"),
    ("sbcl_disk_full", "resource", "No space left|ENOSPC", "full.lisp",
     "(with-open-file (out \"@FULL@/export.csv\" :direction :output :if-exists :supersede)\n"
     "  (dotimes (i 20000) (format out \"~d,order-~d,pending~%\" i i)))\n",
     "sbcl --script full.lisp"),
    ("sbcl_heap_exhausted", "resource", "Heap exhausted|HEAP-EXHAUSTED", "heap.lisp",
     "(defvar *samples* (make-array 100000000 :element-type 'double-float))\n(print (length *samples*))\n",
     "sbcl --dynamic-space-size 64MB --disable-ldb --script heap.lisp"),
    ("sbcl_parse_integer", "validation", "PARSE-ERROR|junk", "parse.lisp",
     "(defvar *qty-field* \"12 pcs\")  ; a quantity column read from an uploaded CSV\n"
     "(print (* 3 (parse-integer *qty-field*)))\n",
     "sbcl --script parse.lisp"),
    ("sbcl_socket_refused", "network", "Connection refused|CONNECTION-REFUSED", "refused.lisp",
     "(require :sb-bsd-sockets)\n(let ((s (make-instance 'sb-bsd-sockets:inet-socket :type :stream :protocol :tcp)))\n"
     "  (sb-bsd-sockets:socket-connect s #(127 0 0 1) @CLOSED@))\n",
     "sbcl --script refused.lisp"),
    ("sbcl_socket_read_timeout", "network", "timeout|IO-TIMEOUT", "timeout.lisp",
     "(require :sb-bsd-sockets)\n(let ((s (make-instance 'sb-bsd-sockets:inet-socket :type :stream :protocol :tcp)))\n"
     "  (sb-bsd-sockets:socket-connect s #(127 0 0 1) @HANG@)\n"
     "  (let ((stream (sb-bsd-sockets:socket-make-stream s :input t :output t :timeout 2)))\n"
     "    (write-line \"PING\" stream) (finish-output stream) (print (read-line stream))))\n",
     "sbcl --script timeout.lisp"),
    ("sbcl_http_503", "service", "503", "h503.lisp", _LISP_HTTP.replace("PATH", "/status/503"),
     "sbcl --script h503.lisp"),
    ("sbcl_http_401", "auth", "401", "h401.lisp", _LISP_HTTP.replace("PATH", "/status/401"),
     "sbcl --script h401.lisp"),
]

# --------------------------------------------------------------------------- Vala

VALA_RUN = "valac --pkg gio-2.0 -o {exe} {src} >/dev/null 2>&1 && ./{exe}"

_VALA_HTTP = """int main () {
    var client = new SocketClient ();
    client.timeout = 5;
    var conn = client.connect_to_host ("127.0.0.1", @HTTP@);
    conn.output_stream.write ("GET PATH HTTP/1.0\\r\\nHost: 127.0.0.1\\r\\n\\r\\n".data);
    var input = new DataInputStream (conn.input_stream);
    var status = input.read_line ().strip ();
    if (!(" 200 " in status)) {
        throw new IOError.FAILED ("GET http://127.0.0.1:@HTTP@PATH: %s", status);
    }
    return 0;
}
"""

VALA_CASES: list[tuple[str, str, str, str, str, str]] = [
    ("vala_unknown_symbol", "programming", "does not exist", "sym.vala",
     "int main () {\n    var order = new HashTable<string, int> (str_hash, str_equal);\n"
     "    order.insert (\"qty\", 3);\n    stdout.printf (\"%d\\n\", order.lookup (\"qty\") * unit_price);\n"
     "    return 0;\n}\n", "valac -o sym sym.vala"),
    ("vala_type_mismatch", "programming", "Cannot convert", "conv.vala",
     "int main () {\n    int retries = \"three\";\n    stdout.printf (\"%d\\n\", retries);\n    return 0;\n}\n",
     "valac -o conv conv.vala"),
    ("vala_syntax_error", "programming", "syntax error", "syn.vala",
     "int main () {\n    var names = new string[] { \"a\", \"b\" };\n    foreach (var n in names {\n"
     "        print (\"%s\\n\", n);\n    }\n    return 0;\n}\n", "valac -o syn syn.vala"),
    ("vala_missing_method", "programming", "does not exist", "meth.vala",
     "class Invoice : Object {\n    public double total { get; set; }\n}\n"
     "int main () {\n    var inv = new Invoice ();\n    inv.apply_discount (0.1);\n    return 0;\n}\n",
     "valac -o meth meth.vala"),
    ("vala_assertion", "programming", "assertion|assert", "assert.vala",
     "int pages (int total, int per_page) {\n    assert (per_page > 0);\n"
     "    return (total + per_page - 1) / per_page;\n}\n"
     "int main () {\n    stdout.printf (\"%d\\n\", pages (40, 0));\n    return 0;\n}\n",
     VALA_RUN.format(exe="assert_prog", src="assert.vala")),
    ("vala_file_missing", "filesystem", "No such file", "fmiss.vala",
     "int main () {\n    string text;\n    FileUtils.get_contents (\"/etc/app99/settings.ini\", out text);\n"
     "    print (\"%s\\n\", text);\n    return 0;\n}\n", VALA_RUN.format(exe="fmiss", src="fmiss.vala")),
    ("vala_file_read_only", "filesystem", "Read-only", "fro.vala",
     "int main () {\n    FileUtils.set_contents (\"@RO@/state.json\", \"{\\\"last\\\": 7}\");\n"
     "    return 0;\n}\n", VALA_RUN.format(exe="fro", src="fro.vala")),
    ("vala_permission_denied", "filesystem", "Permission denied", "fperm.vala",
     "int main () {\n    var file = File.new_for_path (\"@SECRET@\");\n"
     "    var stream = new DataInputStream (file.read ());\n    print (\"%s\\n\", stream.read_line ());\n"
     "    return 0;\n}\n", f"valac --pkg gio-2.0 -o fperm fperm.vala >/dev/null 2>&1 && {AS_NOBODY} ./fperm"),
    ("vala_disk_full", "resource", "No space left", "ffull.vala",
     "int main () {\n    var file = File.new_for_path (\"@FULL@/dump.bin\");\n"
     "    var out_stream = file.replace (null, false, FileCreateFlags.NONE);\n"
     "    var block = new uint8[65536];\n    for (int i = 0; i < 16; i++) {\n"
     "        out_stream.write_all (block, null);\n    }\n    out_stream.close ();\n    return 0;\n}\n",
     VALA_RUN.format(exe="ffull", src="ffull.vala")),
    ("vala_out_of_memory", "resource", "failed to allocate", "oom.vala",
     "int main () {\n    var frames = new uint8[1500000000];\n    frames[0] = 1;\n    return frames[0];\n}\n",
     "valac -o oom oom.vala >/dev/null 2>&1 && (ulimit -v 400000; ./oom)"),
    ("vala_keyfile_parse", "validation", "key-file-error", "kf.vala",
     "int main () {\n    var kf = new KeyFile ();\n    kf.load_from_file (\"@W@/upload99.ini\", KeyFileFlags.NONE);\n"
     "    print (\"%s\\n\", kf.get_string (\"server\", \"host\"));\n    return 0;\n}\n",
     "printf 'host = db.internal\\n[server\\nport=5432\\n' > upload99.ini && "
     + VALA_RUN.format(exe="kf", src="kf.vala")),
    ("vala_int_parse", "validation", "number-parser", "num.vala",
     "int main () {\n    int64 port;\n    string field = \"54x2\";  // from the --port argument\n"
     "    int64.from_string (field, out port);\n    print (\"%lld\\n\", port);\n    return 0;\n}\n",
     VALA_RUN.format(exe="num", src="num.vala")),
    ("vala_socket_refused", "network", "Connection refused|refused", "sref.vala",
     "int main () {\n    var client = new SocketClient ();\n"
     "    var conn = client.connect_to_host (\"127.0.0.1\", @CLOSED@);\n    conn.close ();\n    return 0;\n}\n",
     VALA_RUN.format(exe="sref", src="sref.vala")),
    ("vala_socket_timeout", "network", "timed out|timeout", "stmo.vala",
     "int main () {\n    var client = new SocketClient ();\n    client.timeout = 2;\n"
     "    var conn = client.connect_to_host (\"127.0.0.1\", @HANG@);\n"
     "    conn.output_stream.write (\"STATUS\\n\".data);\n"
     "    var input = new DataInputStream (conn.input_stream);\n    print (\"%s\\n\", input.read_line ());\n"
     "    return 0;\n}\n", VALA_RUN.format(exe="stmo", src="stmo.vala")),
    ("vala_http_503", "service", "503", "h503.vala", _VALA_HTTP.replace("PATH", "/status/503"),
     VALA_RUN.format(exe="h503", src="h503.vala")),
    ("vala_http_429", "resource", "429", "h429.vala", _VALA_HTTP.replace("PATH", "/status/429"),
     VALA_RUN.format(exe="h429", src="h429.vala")),
]

# --------------------------------------------------------------------------- Gforth

GFORTH_CASES: list[tuple[str, str, str, str, str, str]] = [
    ("gforth_undefined_word", "programming", "Undefined word", "undef.fs",
     ": order-total ( qty price -- n ) * apply-tax ;\n3 250 order-total . cr\nbye\n", "gforth undef.fs"),
    ("gforth_stack_underflow", "programming", "Stack underflow", "under.fs",
     ": area ( w h -- n ) * ;\n: report ( -- ) area . cr ;\nreport\nbye\n", "gforth under.fs"),
    ("gforth_division_by_zero", "programming", "Division by zero", "div.fs",
     ": per-item ( total count -- n ) / ;\n900 0 per-item . cr\nbye\n", "gforth div.fs"),
    ("gforth_invalid_address", "programming", "Invalid memory address", "addr.fs",
     "variable cursor\n0 cursor !\n: next-node ( -- n ) cursor @ @ ;\nnext-node . cr\nbye\n", "gforth addr.fs"),
    ("gforth_return_stack_overflow", "programming", "Return stack overflow|stack overflow", "rec.fs",
     ": walk ( n -- n ) 1+ recurse ;\n0 walk . cr\nbye\n", "gforth rec.fs"),
    ("gforth_file_missing", "filesystem", "No such file", "fmiss.fs",
     "s\" /var/lib/app99/ledger.dat\" r/o open-file throw value ledger\nbye\n", "gforth fmiss.fs"),
    ("gforth_file_read_only", "filesystem", "Read-only", "fro.fs",
     "s\" @RO@/counter.dat\" w/o create-file throw value out\nbye\n", "gforth fro.fs"),
    ("gforth_permission_denied", "filesystem", "Permission denied", "fperm.fs",
     "s\" @SECRET@\" r/o open-file throw value in\nbye\n", f"{AS_NOBODY} env HOME=/tmp gforth fperm.fs"),
    ("gforth_allocate_ulimit", "resource", "Cannot allocate memory", "alloc.fs",
     ": buffer ( -- addr ) 1000000000 allocate throw ;\nbuffer drop\nbye\n",
     "ulimit -v 300000; gforth alloc.fs"),
    ("gforth_number_parse", "validation", "invalid number", "num.fs",
     ": parse-qty ( addr u -- n ) s>number? 0= abort\" invalid number in quantity field\" d>s ;\n"
     "s\" 12pcs\" parse-qty . cr\nbye\n", "gforth num.fs"),
    ("gforth_socket_refused", "network", "can't connect", "sock.fs",
     "require unix/socket.fs\ns\" 127.0.0.1\" @CLOSED@ open-socket value conn\nbye\n", "gforth sock.fs"),
]

# --------------------------------------------------------------------------- Chicken Scheme

_SCM_HTTP = """(import chicken.tcp chicken.string)
(define-values (in out) (tcp-connect "127.0.0.1" @HTTP@))
(display "GET PATH HTTP/1.0\\r\\nHost: 127.0.0.1\\r\\n\\r\\n" out)
(flush-output out)
(define status (string-chomp (read-line in) "\\r"))
(unless (substring-index " 200 " status)
  (error "http request failed" "http://127.0.0.1:@HTTP@PATH" status))
"""

CHICKEN_CASES: list[tuple[str, str, str, str, str, str]] = [
    ("chicken_unbound_variable", "programming", "unbound variable", "unbound.scm",
     "(define (net-price gross) (/ gross vat-factor))\n(print (net-price 119))\n", "csi -s unbound.scm"),
    ("chicken_non_procedure", "programming", "call of non-procedure", "nonproc.scm",
     "(define handlers '((\"GET\" . list-orders)))\n(define (dispatch m) ((cdr (assoc m handlers))))\n"
     "(dispatch \"GET\")\n", "csi -s nonproc.scm"),
    ("chicken_bad_argument_type", "programming", "bad argument type", "badarg.scm",
     "(define (total items) (apply + (map cdr items)))\n(print (total '((a . 1) (b . \"2\"))))\n",
     "csi -s badarg.scm"),
    ("chicken_wrong_arg_count", "programming", "bad argument count|argument count", "argc.scm",
     "(define (make-order id qty price) (list id qty price))\n(print (make-order 7 2))\n", "csi -s argc.scm"),
    ("chicken_compile_error", "programming", "unterminated", "comp.scm",
     "(define (scale v k)\n  (map (lambda (x) (* x k)) v)\n(print (scale '(1 2 3) 2))\n",
     "csc -o comp comp.scm"),
    ("chicken_vector_index", "programming", "out of range", "vref.scm",
     "(define slots (make-vector 4 #f))\n(define (reserve! i) (vector-set! slots i 'taken))\n(reserve! 4)\n",
     "csi -s vref.scm"),
    ("chicken_file_missing", "filesystem", "No such file|cannot open", "fmiss.scm",
     "(define cfg (with-input-from-file \"/etc/app99/routes.scm\" read))\n(print cfg)\n", "csi -s fmiss.scm"),
    ("chicken_file_read_only", "filesystem", "Read-only", "fro.scm",
     "(with-output-to-file \"@RO@/cache.scm\" (lambda () (write '(last-run 7))))\n", "csi -s fro.scm"),
    ("chicken_permission_denied", "filesystem", "Permission denied", "fperm.scm",
     "(import (chicken io))\n(print (with-input-from-file \"@SECRET@\" read-line))\n",
     f"{AS_NOBODY} env HOME=/tmp csi -s fperm.scm"),
    ("chicken_disk_full", "resource", "No space left", "ffull.scm",
     "(import (chicken file posix))\n"
     "(define fd (file-open \"@FULL@/events.log\" (+ open/wronly open/creat open/trunc)))\n"
     "(define chunk (make-string 4096 #\\x))\n(do ((i 0 (+ i 1))) ((= i 64)) (file-write fd chunk))\n",
     "csi -s ffull.scm"),
    ("chicken_heap_full", "resource", "out of memory|heap", "heap.scm",
     "(define (build n acc) (if (= n 0) acc (build (- n 1) (cons (make-string 64) acc))))\n"
     "(print (length (build 10000000 '())))\n", "csi -:h16m -s heap.scm"),
    ("chicken_read_malformed", "validation", "unterminated", "readdata.scm",
     "(define data (call-with-input-file \"@W@/upload99.sexp\" read))\n(print (assq 'qty data))\n",
     "printf '((sku . \"KB-01\") (qty . 3)' > upload99.sexp && csi -s readdata.scm"),
    ("chicken_tcp_refused", "network", "Connection refused|refused", "tref.scm",
     "(import chicken.tcp)\n(define-values (in out) (tcp-connect \"127.0.0.1\" @CLOSED@))\n", "csi -s tref.scm"),
    ("chicken_tcp_read_timeout", "network", "timed out|timeout", "ttmo.scm",
     "(import chicken.tcp chicken.io)\n(tcp-read-timeout 2000)\n"
     "(define-values (in out) (tcp-connect \"127.0.0.1\" @HANG@))\n(display \"PING\\n\" out)\n(flush-output out)\n"
     "(print (read-line in))\n", "csi -s ttmo.scm"),
    ("chicken_http_503", "service", "503", "h503.scm", _SCM_HTTP.replace("PATH", "/status/503"), "csi -s h503.scm"),
    ("chicken_http_403", "auth", "403", "h403.scm", _SCM_HTTP.replace("PATH", "/status/403"), "csi -s h403.scm"),
]

__all__ = ["AS_NOBODY", "CHICKEN_CASES", "GFORTH_CASES", "SBCL_CASES", "VALA_CASES"]
