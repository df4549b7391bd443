"""Programs of batch 75 in the languages it provokes (Haskell, Tcl, Guile and Racket Scheme, Fortran, awk, bc/dc),
each written to the batch directory and run there. Placeholders are filled by the provoker: TMP (the batch
directory), RODIR (a read-only tmpfs), FULLDIR (a tiny tmpfs), and the ports HTTPPORT, CLOSED, RESET, EMPTY,
TLSPORT, REDISAUTH, REDISOOM, PGPORT, PGSTANDBY, PGFULL."""

from __future__ import annotations

from pathlib import Path

# --------------------------------------------------------------------------- Haskell

HASKELL: dict[str, str] = {
    # a plain socket client that sends a request and reads the answer
    "SockClient": """import Network.Socket
import qualified Network.Socket.ByteString as NSB
import qualified Data.ByteString.Char8 as B
import System.Environment (getArgs)

main :: IO ()
main = do
  [host, port] <- getArgs
  addr:_ <- getAddrInfo (Just defaultHints { addrSocketType = Stream }) (Just host) (Just port)
  s <- socket (addrFamily addr) Stream defaultProtocol
  connect s (addrAddress addr)
  NSB.sendAll s (B.pack "GET /inventory HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n\\r\\n")
  reply <- NSB.recv s 4096
  _ <- NSB.recv s 4096
  B.putStrLn reply
  close s
""",
    # Network.HTTP from the HTTP package: fail on any non-2xx answer with its status line
    "HttpFetch": """import Network.HTTP
import System.Environment (getArgs)

main :: IO ()
main = do
  [url] <- getArgs
  result <- simpleHTTP (getRequest url)
  case result of
    Left err -> ioError (userError ("GET " ++ url ++ ": " ++ show err))
    Right rsp -> case rspCode rsp of
      (2, _, _) -> putStr (rspBody rsp)
      (a, b, c) -> ioError (userError ("GET " ++ url ++ " failed: HTTP " ++ concatMap show [a, b, c]
                                       ++ " " ++ rspReason rsp))
""",
    "ReadConfig": """import System.Environment (getArgs)

main :: IO ()
main = do
  [path] <- getArgs
  text <- readFile path
  putStrLn ("loaded " ++ show (length (lines text)) ++ " settings")
""",
    "WriteReport": """import System.Environment (getArgs)

main :: IO ()
main = do
  [path, kib] <- getArgs
  let line = replicate 1023 'x' ++ "\\n"
  writeFile path (concat (replicate (read kib) line))
  putStrLn "report written"
""",
    "OpenMany": """import System.IO
import Control.Monad (forM)

main :: IO ()
main = do
  hs <- forM [1 .. 200 :: Int] (\\i -> openFile "/etc/hostname" ReadMode)
  print (length hs)
""",
    "BuildIndex": """import qualified Data.Map.Strict as M

main :: IO ()
main = do
  let index = M.fromList [(k, show k ++ "-payload") | k <- [1 .. 20000000 :: Int]]
  print (M.size index)
""",
    "ParsePort": """import System.Environment (getArgs)

main :: IO ()
main = do
  [path] <- getArgs
  text <- readFile path
  let port = read (drop 1 (dropWhile (/= '=') (head (lines text)))) :: Int
  putStrLn ("listening on " ++ show port)
""",
    "ParseCsv": """import Text.Parsec
import Text.Parsec.String (Parser)
import System.Environment (getArgs)

row :: Parser (String, Int, Double)
row = do
  sku <- many1 (alphaNum <|> char '-')
  _ <- char ','
  qty <- read <$> many1 digit
  _ <- char ','
  price <- read <$> ((++) <$> many1 digit <*> option "" ((:) <$> char '.' <*> many1 digit))
  return (sku, qty, price)

rows :: Parser [(String, Int, Double)]
rows = endBy row newline <* eof

main :: IO ()
main = do
  [path] <- getArgs
  text <- readFile path
  case parse rows path text of
    Left err -> ioError (userError (show err))
    Right rs -> print (length rs)
""",
    "HeadEmpty": """import System.Environment (getArgs)

pending :: [String] -> [String]
pending = filter (\\j -> take 4 j == "todo")

main :: IO ()
main = do
  let jobs = ["done:reindex", "done:vacuum"]
  putStrLn ("next job: " ++ head (pending jobs))
""",
    "Patterns": """data Shape = Circle Double | Rect Double Double | Triangle Double Double Double

area :: Shape -> Double
area (Circle r) = pi * r * r
area (Rect w h) = w * h

main :: IO ()
main = mapM_ (print . area) [Circle 1, Rect 2 3, Triangle 3 4 5]
""",
    "FromJust": """import Data.Maybe (fromJust)
import qualified Data.Map as M

main :: IO ()
main = do
  let prices = M.fromList [("KB-01", 49.0), ("MS-02", 19.5)] :: M.Map String Double
  print (fromJust (M.lookup "HD-03" prices) * 2)
""",
    "DivZero": """main :: IO ()
main = do
  let samples = [] :: [Int]
  print (sum samples `div` length samples)
""",
    "TypeError": """main :: IO ()
main = do
  let total = sum [1, 2, 3] :: Int
  putStrLn ("total: " ++ total)
""",
}

HASKELL_RUN = "ghc -v0 -rtsopts -outputdir TMP/hs/obj-{name} -o TMP/hs/{name} TMP/hs/{name}.hs && TMP/hs/{name}"

# --------------------------------------------------------------------------- Tcl

TCL: dict[str, str] = {
    "sock.tcl": """set s [socket 127.0.0.1 [lindex $argv 0]]
puts $s "PING"
flush $s
puts [gets $s]
""",
    "fetch.tcl": """package require http
set tok [http::geturl [lindex $argv 0] -timeout 5000]
if {[http::status $tok] ne "ok"} {
    error "request failed: [http::status $tok] [http::error $tok]"
}
if {[http::ncode $tok] >= 400} {
    error "GET [lindex $argv 0]: [http::code $tok]"
}
puts [http::data $tok]
""",
    "tls.tcl": """package require tls
set s [tls::socket -require 1 -cafile /etc/ssl/certs/ca-certificates.crt 127.0.0.1 [lindex $argv 0]]
tls::handshake $s
puts $s "GET / HTTP/1.0\\r\\n\\r\\n"
flush $s
puts [read $s]
""",
    "redis.tcl": """proc redis {s args} {
    puts -nonewline $s "*[llength $args]\\r\\n"
    foreach a $args { puts -nonewline $s "\\$[string length $a]\\r\\n$a\\r\\n" }
    flush $s
    set reply [string trimright [gets $s] "\\r"]
    if {[string index $reply 0] eq "-"} { error [string range $reply 1 end] }
    return $reply
}
set s [socket 127.0.0.1 [lindex $argv 0]]
fconfigure $s -translation binary
redis $s SET session:42 [string repeat x 4096]
puts [redis $s GET session:42]
""",
    "readconf.tcl": """set f [open [lindex $argv 0] r]
puts [read $f]
close $f
""",
    "writerep.tcl": """set f [open [lindex $argv 0] w]
for {set i 0} {$i < [lindex $argv 1]} {incr i} { puts $f [string repeat x 1023] }
close $f
""",
    "qty.tcl": """set fields [split [lindex $argv 0] ,]
set qty [lindex $fields 1]
puts "line total: [expr {$qty * 12.5}]"
""",
    "json.tcl": """package require json
set f [open [lindex $argv 0] r]
set doc [json::json2dict [read $f]]
close $f
puts [dict get $doc name]
""",
    "unknown.tcl": """set queue {}
foreach job {reindex vacuum analyze} {
    lapend queue $job
}
puts $queue
""",
    "novar.tcl": """proc total {items} {
    foreach {sku price} $items { set sum [expr {$sum + $price}] }
    return $sum
}
puts [total {KB-01 49.0 MS-02 19.5}]
""",
    "divzero.tcl": """set done 0
set total 0
puts "progress: [expr {$done * 100 / $total}]%"
""",
}

# --------------------------------------------------------------------------- Guile

GUILE: dict[str, str] = {
    "unbound.scm": """(define (order-total items)
  (fold + 0 (map cdr items)))
(display (order-totl '(("KB-01" . 49) ("MS-02" . 19))))
(newline)
""",
    "wrongtype.scm": """(define prices '(("KB-01" . "49") ("MS-02" . "19")))
(display (apply + (map cdr prices)))
(newline)
""",
    "readconf.scm": """(define port (open-input-file (cadr (command-line))))
(display (read port))
""",
    "readdata.scm": """(define port (open-input-file (cadr (command-line))))
(let loop ((form (read port)))
  (unless (eof-object? form)
    (write form) (newline)
    (loop (read port))))
""",
    "connect.scm": """(define sock (socket PF_INET SOCK_STREAM 0))
(connect sock AF_INET (inet-pton AF_INET "127.0.0.1") (string->number (cadr (command-line))))
(display "connected")
""",
    "http.scm": """(use-modules (web client) (web response))
(define url (cadr (command-line)))
(call-with-values (lambda () (http-get url))
  (lambda (response body)
    (unless (= 200 (response-code response))
      (error "GET failed:" url (response-code response) (response-reason-phrase response)))
    (display body)))
""",
    "write.scm": """(define port (open-output-file (cadr (command-line))))
(let loop ((i 0))
  (when (< i 1024)
    (display (make-string 1023 #\\x) port) (newline port)
    (loop (+ i 1))))
(close-port port)
""",
}

# --------------------------------------------------------------------------- Racket

RACKET: dict[str, str] = {
    "unbound.rkt": """#lang racket/base
(define (order-total items) (for/sum ([i items]) (cdr i)))
(displayln (order-totl '(("KB-01" . 49) ("MS-02" . 19))))
""",
    "contract.rkt": """#lang racket/base
(define quantities (hash "KB-01" 2 "MS-02" "3"))
(displayln (for/sum ([(k v) quantities]) (* v 10)))
""",
    "readconf.rkt": """#lang racket/base
(define path (vector-ref (current-command-line-arguments) 0))
(displayln (call-with-input-file path read))
""",
    "tcp.rkt": """#lang racket/base
(require racket/tcp)
(define port (string->number (vector-ref (current-command-line-arguments) 0)))
(define-values (in out) (tcp-connect "127.0.0.1" port))
(displayln (read-line in))
""",
    "ssl.rkt": """#lang racket/base
(require openssl)
(define port (string->number (vector-ref (current-command-line-arguments) 0)))
(define-values (in out) (ssl-connect "127.0.0.1" port (ssl-secure-client-context)))
(displayln (read-line in))
""",
    "http.rkt": """#lang racket/base
(require net/http-client)
(define args (current-command-line-arguments))
(define-values (status headers body)
  (http-sendrecv "127.0.0.1" (vector-ref args 1) #:port (string->number (vector-ref args 0))))
(unless (regexp-match? #rx#"^HTTP/1\\\\.[01] 2" status)
  (error 'fetch "~a answered ~a" (vector-ref args 1) status))
""",
    "json.rkt": """#lang racket/base
(require json)
(define path (vector-ref (current-command-line-arguments) 0))
(define doc (call-with-input-file path read-json))
(displayln (hash-ref doc 'name))
""",
    "openmany.rkt": """#lang racket/base
(define ports (for/list ([i 200]) (open-input-file "/etc/hostname")))
(displayln (length ports))
""",
    "pg.rkt": """#lang racket/base
(require db)
(define args (current-command-line-arguments))
(define (connect)
  (postgresql-connect #:server "127.0.0.1" #:port (string->number (vector-ref args 0))
                      #:user (vector-ref args 1) #:password (vector-ref args 2) #:database "postgres"
                      #:allow-cleartext-password? #t))
(define conns (for/list ([i (string->number (vector-ref args 3))]) (connect)))
(displayln (query-value (car conns) "select 1"))
""",
}

# --------------------------------------------------------------------------- Fortran

FORTRAN: dict[str, str] = {
    "bounds.f90": """program bounds
  implicit none
  integer :: readings(10), i
  do i = 1, 11
    readings(i) = i * 3
  end do
  print *, sum(readings)
end program bounds
""",
    "openold.f90": """program openold
  implicit none
  character(len=256) :: path
  integer :: n
  call get_command_argument(1, path)
  open(unit=10, file=trim(path), status='old', action='read')
  read(10, *) n
  print *, n
end program openold
""",
    "readint.f90": """program readint
  implicit none
  character(len=256) :: path
  integer :: station, count
  real :: level
  call get_command_argument(1, path)
  open(unit=10, file=trim(path), status='old', action='read')
  do
    read(10, *) station, count, level
    print *, station, count, level
  end do
end program readint
""",
    "readeof.f90": """program readeof
  implicit none
  character(len=256) :: path
  real :: grid(3, 4)
  call get_command_argument(1, path)
  open(unit=10, file=trim(path), status='old', action='read')
  read(10, *) grid
  print *, sum(grid)
end program readeof
""",
    "namelist.f90": """program nml
  implicit none
  character(len=256) :: path
  integer :: nsteps = 10
  real :: dt = 0.1
  namelist /run/ nsteps, dt
  call get_command_argument(1, path)
  open(unit=10, file=trim(path), status='old', action='read')
  read(10, nml=run)
  print *, nsteps, dt
end program nml
""",
    "openmany.f90": """program openmany
  implicit none
  integer :: u
  do u = 10, 200
    open(unit=u, file='/etc/hostname', status='old', action='read')
  end do
  print *, 'opened all inputs'
end program openmany
""",
    "opennew.f90": """program opennew
  implicit none
  character(len=256) :: path
  call get_command_argument(1, path)
  open(unit=20, file=trim(path), status='new', action='write')
  write(20, *) 'checkpoint', 1
  close(20)
end program opennew
""",
    "alloc.f90": """program alloc
  implicit none
  real(8), allocatable :: field(:, :)
  integer(8) :: n
  n = 60000_8
  allocate(field(n, n))
  field = 0
  print *, sum(field)
end program alloc
""",
    "dealloc.f90": """program dealloc
  implicit none
  real, allocatable :: work(:)
  integer :: pass
  allocate(work(100))
  do pass = 1, 2
    if (allocated(work)) work = pass
    call release(work)
  end do
contains
  subroutine release(buf)
    real, allocatable, intent(inout) :: buf(:)
    print *, 'releasing buffer'
    deallocate(buf)
  end subroutine release
end program dealloc
""",
}

FORTRAN_RUN = "gfortran -fcheck=all -o TMP/f/{stem} TMP/f/{stem}.f90 && TMP/f/{stem}"

# --------------------------------------------------------------------------- awk, bc, dc

AWK: dict[str, str] = {
    "avg.awk": """{ sum[$1] += $3; n[$1] += $2 }
END { for (k in sum) printf "%s %.2f\\n", k, sum[k] / n[k] }
""",
    "syntax.awk": """BEGIN { FS = "," }
{ if ($3 > 100 { print $1, $3 } }
""",
    "inet.awk": """BEGIN {
    svc = "/inet4/tcp/0/127.0.0.1/" port
    print "GET " path " HTTP/1.0\\r\\n\\r" |& svc
    svc |& getline status
    close(svc)
    if (status !~ /^HTTP\\/1\\.[01] 2/) { print "inventory: " status > "/dev/stderr"; exit 1 }
    print status
}
""",
    "report.awk": """{ for (i = 0; i < 1024; i++) print $0, i > out }
END { close(out) }
""",
    "scalar.awk": """{ seen[$1]++ }
END { seen = NR; print seen }
""",
}

BC: dict[str, str] = {
    "ratio.bc": """scale = 4
hits = 0
misses = 0
hits / (hits + misses)
quit
""",
}


def write_sources(root: Path) -> None:
    """Lay every program of the batch out under `root` (hs/, tcl/, scm/, rkt/, f/, awk/, bc/)."""
    for sub, files, suffix in (("hs", HASKELL, ".hs"), ("tcl", TCL, ""), ("scm", GUILE, ""), ("rkt", RACKET, ""),
                               ("f", FORTRAN, ""), ("awk", AWK, ""), ("bc", BC, "")):
        folder = root / sub
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (folder / f"{name}{suffix}").write_text(text, encoding="utf-8")


__all__ = ["AWK", "BC", "FORTRAN", "FORTRAN_RUN", "GUILE", "HASKELL", "HASKELL_RUN", "RACKET", "TCL", "write_sources"]
