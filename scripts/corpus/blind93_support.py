"""Sources and build helpers of the ninety-third batch: small programs in D (gdc), Free Pascal, Ada (GNAT),
GnuCOBOL, SWI-Prolog and GNU Octave, each written the way an application in that language would do the job, so
that the failure the batch provokes comes from the language's own compiler, runtime or library."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from checked import problem
from common import run

# --------------------------------------------------------------------------- D (gdc)

D_SOURCES = {
    "d_undefined.d": """import std.stdio;
struct Invoice { string id; double total; }
double sumTotals(Invoice[] invoices) {
    double sum = 0;
    foreach (inv; invoices) sum += inv.totl;
    return sum;
}
void main() { writeln(sumTotals([Invoice("in-93", 12.5)])); }
""",
    "d_types.d": """import std.stdio;
int retries(string[] args) {
    int count = args.length > 1 ? args[1] : 3;
    return count;
}
void main(string[] args) { writeln(retries(args)); }
""",
    "d_index.d": """import std.stdio;
int[] batchSizes(int n) { auto a = new int[n]; foreach (i; 0 .. n) a[i] = i * 10; return a; }
void main() {
    auto sizes = batchSizes(4);
    foreach (i; 0 .. sizes.length + 1) writeln("batch ", i, " size ", sizes[i]);
}
""",
    "d_contract.d": """import std.stdio;
double unitPrice(double total, int quantity)
in (quantity > 0, "quantity must be positive")
{
    return total / quantity;
}
void main() { int[] quantities = [3, 0]; foreach (q; quantities) writeln(unitPrice(120.0, q)); }
""",
    "d_conv.d": """import std.stdio, std.conv;
void main(string[] args) {
    int port = args[1].to!int;
    writeln("listening on ", port);
}
""",
    "d_json.d": """import std.stdio, std.json, std.file;
void main(string[] args) {
    auto doc = parseJSON(readText(args[1]));
    writeln(doc["orders"].array.length);
}
""",
    "d_read.d": """import std.stdio, std.file;
void main(string[] args) {
    auto config = readText(args[1]);
    writeln(config.length);
}
""",
    "d_write.d": """import std.stdio;
void main(string[] args) {
    auto report = File(args[1], "w");
    foreach (i; 0 .. 20_000) report.writeln("order,", i, ",shipped");
    report.close();
}
""",
    "d_oom.d": """import std.stdio;
void main() {
    auto frames = new ubyte[][](64);
    foreach (i, ref f; frames) { f = new ubyte[64 * 1024 * 1024]; f[0] = cast(ubyte) i; }
    writeln(frames.length);
}
""",
    "d_socket.d": """import std.socket, std.conv, std.stdio;
void main(string[] args) {
    auto s = new TcpSocket(new InternetAddress("127.0.0.1", args[1].to!ushort));
    s.send("PING\\r\\n");
}
""",
    "d_curl.d": """import std.net.curl, std.stdio;
void main(string[] args) { auto body = get(args[1]); writeln(body); }
""",
}

# --------------------------------------------------------------------------- Free Pascal

PASCAL_SOURCES = {
    "p_undefined.pas": """program p_undefined;
{$mode objfpc}
uses SysUtils;
var Total: Double;
begin
  Total := 0;
  Totl := Total + 12.5;
  WriteLn(Total:0:2);
end.
""",
    "p_types.pas": """program p_types;
{$mode objfpc}
uses SysUtils;
var Retries: Integer;
begin
  Retries := 'three';
  WriteLn(Retries);
end.
""",
    "p_range.pas": """program p_range;
{$mode objfpc}{$R+}
uses SysUtils;
var Slots: array[1..4] of Integer; I: Integer;
begin
  for I := 1 to 5 do Slots[I] := I * 10;
  WriteLn(Slots[1]);
end.
""",
    "p_nil.pas": """program p_nil;
{$mode objfpc}
uses SysUtils;
type TAccount = class Owner: string; end;
function FindAccount(const Id: string): TAccount; begin Result := nil; end;
begin
  WriteLn(FindAccount('ac-93').Owner);
end.
""",
    "p_conv.pas": """program p_conv;
{$mode objfpc}
uses SysUtils;
var Quantity: Integer;
begin
  Quantity := StrToInt(ParamStr(1));
  WriteLn(Quantity * 2);
end.
""",
    "p_json.pas": """program p_json;
{$mode objfpc}
uses SysUtils, Classes, fpjson, jsonparser;
var Lines: TStringList; Doc: TJSONData;
begin
  Lines := TStringList.Create;
  Lines.LoadFromFile(ParamStr(1));
  Doc := GetJSON(Lines.Text);
  WriteLn(Doc.FindPath('orders').Count);
end.
""",
    "p_read.pas": """program p_read;
{$mode objfpc}
uses SysUtils, Classes;
var S: TFileStream;
begin
  S := TFileStream.Create(ParamStr(1), fmOpenRead);
  WriteLn(S.Size);
  S.Free;
end.
""",
    "p_create.pas": """program p_create;
{$mode objfpc}
uses SysUtils, Classes;
var S: TFileStream;
begin
  S := TFileStream.Create(ParamStr(1), fmCreate);
  S.Free;
end.
""",
    "p_full.pas": """program p_full;
{$mode objfpc}{$I+}
uses SysUtils;
var F: File; Buf: array[0..65535] of Byte; I: Integer;
begin
  FillChar(Buf, SizeOf(Buf), 65);
  AssignFile(F, ParamStr(1));
  Rewrite(F, 1);
  for I := 1 to 64 do BlockWrite(F, Buf, SizeOf(Buf));
  CloseFile(F);
end.
""",
    "p_oom.pas": """program p_oom;
{$mode objfpc}
uses SysUtils;
var Cache: array of Byte;
begin
  SetLength(Cache, 1024 * 1024 * 1024);
  WriteLn(Length(Cache));
end.
""",
    "p_socket.pas": """program p_socket;
{$mode objfpc}
uses SysUtils, ssockets;
var S: TInetSocket;
begin
  S := TInetSocket.Create('127.0.0.1', StrToInt(ParamStr(1)));
  S.Free;
end.
""",
    "p_http.pas": """program p_http;
{$mode objfpc}
uses SysUtils, fphttpclient;
begin
  WriteLn(TFPHTTPClient.SimpleGet(ParamStr(1)));
end.
""",
}

# --------------------------------------------------------------------------- Ada (GNAT)

ADA_SOURCES = {
    "a_undefined.adb": """with Ada.Text_IO; use Ada.Text_IO;
procedure A_Undefined is
   Total : Float := 0.0;
begin
   Total := Total + Shipping_Fee;
   Put_Line (Float'Image (Total));
end A_Undefined;
""",
    "a_types.adb": """with Ada.Text_IO; use Ada.Text_IO;
procedure A_Types is
   Retries : Integer := 3;
   Label   : String (1 .. 5) := "retry";
begin
   Retries := Label;
   Put_Line (Integer'Image (Retries));
end A_Types;
""",
    "a_index.adb": """with Ada.Text_IO; use Ada.Text_IO;
procedure A_Index is
   type Slot_Array is array (1 .. 4) of Integer;
   Slots : Slot_Array := (others => 0);
   N : Integer := 4;
begin
   for I in 1 .. N + 1 loop
      Slots (I) := I * 10;
   end loop;
   Put_Line (Integer'Image (Slots (1)));
end A_Index;
""",
    "a_null.adb": """with Ada.Text_IO; use Ada.Text_IO;
procedure A_Null is
   type Account is record Balance : Integer := 0; end record;
   type Account_Access is access Account;
   function Find (Id : String) return Account_Access is (null);
   A : constant Account_Access := Find ("ac-93");
begin
   Put_Line (Integer'Image (A.Balance));
end A_Null;
""",
    "a_value.adb": """with Ada.Text_IO; use Ada.Text_IO; with Ada.Command_Line;
procedure A_Value is
   Qty : constant Integer := Integer'Value (Ada.Command_Line.Argument (1));
begin
   Put_Line (Integer'Image (Qty * 2));
end A_Value;
""",
    "a_open.adb": """with Ada.Text_IO; use Ada.Text_IO; with Ada.Command_Line;
procedure A_Open is
   F : File_Type;
begin
   Open (F, In_File, Ada.Command_Line.Argument (1));
   Put_Line (Get_Line (F));
   Close (F);
end A_Open;
""",
    "a_create.adb": """with Ada.Text_IO; use Ada.Text_IO; with Ada.Command_Line;
procedure A_Create is
   F : File_Type;
   Line : constant String (1 .. 1000) := (others => 'x');
begin
   Create (F, Out_File, Ada.Command_Line.Argument (1));
   for I in 1 .. 200 loop Put_Line (F, Line); end loop;
   Close (F);
end A_Create;
""",
    "a_heap.adb": """with Ada.Text_IO; use Ada.Text_IO;
procedure A_Heap is
   type Buffer is array (Positive range <>) of Character;
   type Buffer_Access is access Buffer;
   B : constant Buffer_Access := new Buffer (1 .. 1_000_000_000);
begin
   B (1) := 'x';
   Put_Line (Integer'Image (B'Length));
end A_Heap;
""",
    "a_socket.adb": """with GNAT.Sockets; use GNAT.Sockets; with Ada.Command_Line;
procedure A_Socket is
   S : Socket_Type; Addr : Sock_Addr_Type;
begin
   Addr.Addr := Inet_Addr ("127.0.0.1");
   Addr.Port := Port_Type'Value (Ada.Command_Line.Argument (1));
   Create_Socket (S);
   Connect_Socket (S, Addr);
end A_Socket;
""",
}

# --------------------------------------------------------------------------- GnuCOBOL


def _cobol(lines: str) -> str:
    """Fixed-format source: seven columns of sequence area and indicator before each line."""
    return "".join(f"       {line}\n" if line else "\n" for line in lines.splitlines())


COBOL_SOURCES = {
    "c_undefined.cob": _cobol("""IDENTIFICATION DIVISION.
PROGRAM-ID. UND93.
DATA DIVISION.
WORKING-STORAGE SECTION.
01 WS-TOTAL PIC 9(6) VALUE 0.
PROCEDURE DIVISION.
    ADD WS-AMOUNT TO WS-TOTAL
    DISPLAY WS-TOTAL
    STOP RUN."""),
    "c_syntax.cob": _cobol("""IDENTIFICATION DIVISION.
PROGRAM-ID. SYN93.
DATA DIVISION.
WORKING-STORAGE SECTION.
01 WS-RATE PIC 9V99 VALUE 0.93.
PROCEDURE DIVISION.
    IF WS-RATE > 1
        DISPLAY "high rate"
    ELSE
        DISPLAY "rate " WS-RATE
    END-PERFORM
    STOP RUN."""),
    "c_subscript.cob": _cobol("""IDENTIFICATION DIVISION.
PROGRAM-ID. SUB93.
DATA DIVISION.
WORKING-STORAGE SECTION.
01 WS-TABLE.
   05 WS-RATE PIC 9(3) OCCURS 4 TIMES.
01 WS-I PIC 9(2) VALUE 0.
PROCEDURE DIVISION.
    PERFORM VARYING WS-I FROM 1 BY 1 UNTIL WS-I > 5
        MOVE WS-I TO WS-RATE (WS-I)
    END-PERFORM
    DISPLAY WS-RATE (1)
    STOP RUN."""),
    "c_call.cob": _cobol("""IDENTIFICATION DIVISION.
PROGRAM-ID. CALL93.
PROCEDURE DIVISION.
    CALL "POSTLEDGER" USING BY CONTENT "93"
    STOP RUN."""),
    "c_numeric.cob": _cobol("""IDENTIFICATION DIVISION.
PROGRAM-ID. NUM93.
DATA DIVISION.
WORKING-STORAGE SECTION.
01 WS-IN PIC X(8).
01 WS-QTY REDEFINES WS-IN PIC 9(8).
01 WS-TOTAL PIC 9(9) VALUE 0.
PROCEDURE DIVISION.
    ACCEPT WS-IN FROM ARGUMENT-VALUE
    ADD WS-QTY TO WS-TOTAL
    DISPLAY WS-TOTAL
    STOP RUN."""),
    "c_ledger.cob": _cobol("""IDENTIFICATION DIVISION.
PROGRAM-ID. LEDGER93.
ENVIRONMENT DIVISION.
INPUT-OUTPUT SECTION.
FILE-CONTROL.
    SELECT LEDGER ASSIGN TO DYNAMIC WS-PATH
        ORGANIZATION IS LINE SEQUENTIAL.
DATA DIVISION.
FILE SECTION.
FD LEDGER.
01 LEDGER-REC PIC X(80).
WORKING-STORAGE SECTION.
01 WS-PATH PIC X(200).
01 WS-MODE PIC X(6).
01 WS-N PIC 9(5) VALUE 0.
PROCEDURE DIVISION.
    ACCEPT WS-MODE FROM ARGUMENT-VALUE
    ACCEPT WS-PATH FROM ARGUMENT-VALUE
    IF WS-MODE = "READ"
        OPEN INPUT LEDGER
        READ LEDGER
        DISPLAY LEDGER-REC
        CLOSE LEDGER
    ELSE
        OPEN OUTPUT LEDGER
        PERFORM VARYING WS-N FROM 1 BY 1 UNTIL WS-N > 2000
            MOVE ALL "X" TO LEDGER-REC
            WRITE LEDGER-REC
        END-PERFORM
        CLOSE LEDGER
    END-IF
    STOP RUN."""),
}

# --------------------------------------------------------------------------- SWI-Prolog

_MAIN = ":- initialization(main, main).\n"

PROLOG_SOURCES = {
    "undefined.pl": _MAIN + """main :- Orders = [order(93, 12.5), order(94, 7.0)],
    post_ledger(Orders, Total), format("~w~n", [Total]).
""",
    "syntax.pl": _MAIN + """main :- load_rates(R), print(R).
load_rates(R) :- R = rates(eur 0.93, usd 1.0).
""",
    "instantiation.pl": _MAIN + """main :- label_width(_Label, W), format("~w~n", [W]).
label_width(Label, W) :- atom_length(Label, W).
""",
    "number.pl": _MAIN + """main :- current_prolog_flag(argv, [Arg|_]), atom_codes(Arg, Codes),
    number_codes(Qty, Codes), Total is Qty * 2, format("~w~n", [Total]).
""",
    "json.pl": _MAIN + """:- use_module(library(http/json)).
main :- current_prolog_flag(argv, [File|_]), setup_call_cleanup(open(File, read, S),
    json_read_dict(S, Dict), close(S)), format("~w~n", [Dict.orders]).
""",
    "read.pl": _MAIN + """main :- current_prolog_flag(argv, [File|_]), open(File, read, S), read_term(S, T, []),
    close(S), print(T).
""",
    "write.pl": _MAIN + """main :- current_prolog_flag(argv, [File|_]), open(File, write, S),
    forall(between(1, 5000, I), format(S, "order(~w, ~a).~n", [I, shipped_from_warehouse_93])), close(S).
""",
    "stack.pl": _MAIN + """main :- set_prolog_flag(stack_limit, 20 000 000), numlist(1, 5000000, L),
    sum_list(L, S), format("~w~n", [S]).
""",
    "tcp.pl": _MAIN + """:- use_module(library(socket)).
main :- current_prolog_flag(argv, [Port|_]), atom_number(Port, P),
    tcp_connect('127.0.0.1':P, Stream, []), format(Stream, "PING~n", []), close(Stream).
""",
    "http.pl": _MAIN + """:- use_module(library(http/http_open)).
main :- current_prolog_flag(argv, [URL|_]), setup_call_cleanup(http_open(URL, In, []),
    read_string(In, _, Body), close(In)), format("~s~n", [Body]).
""",
}

# --------------------------------------------------------------------------- GNU Octave

OCTAVE_SOURCES = {
    "undefined_fn.m": """prices = [12.5 7.0 3.25];
total = sum(prices) + compute_vat(prices, 0.19);
printf("%g\\n", total);
""",
    "parse_error.m": """1;
function r = scale(v, k)
  r = v .* k;
endfunction
for i = 1:3
  printf("%d\\n", scale(i, 2)
endfor
""",
    "out_of_bound.m": """weights = [0.2 0.3 0.5];
for k = 1:4
  printf("%g\\n", weights(k));
endfor
""",
    "nonconformant.m": """monthly = [10 20 30];
targets = [12 18];
gap = monthly - targets;
disp(gap);
""",
    "json_input.m": """args = argv();
doc = jsondecode(fileread(args{1}));
disp(numel(doc.orders));
""",
    "choose_unit.m": """args = argv();
unit = validatestring(args{1}, {"metric", "imperial"});
disp(unit);
""",
    "load_missing.m": """args = argv();
data = load(args{1});
disp(size(data));
""",
    "export_csv.m": """args = argv();
out = args{1};
[fid, msg] = fopen(out, "w");
if fid < 0
  error("export:open", "cannot open %s: %s", out, msg);
endif
fprintf(fid, "%g,%g\\n", rand(10, 2)');
fclose(fid);
""",
    "read_csv.m": """args = argv();
src = args{1};
[fid, msg] = fopen(src, "r");
if fid < 0
  error("import:open", "cannot open %s: %s", src, msg);
endif
disp(fgetl(fid));
fclose(fid);
""",
    "big_matrix.m": """m = zeros(12000);
disp(size(m));
""",
    "fetch.m": """args = argv();
body = urlread(args{1});
disp(body);
""",
}


def write_sources(directory: Path, sources: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o755)
    for name, text in sources.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


def build(name: str, argv: Sequence[str], cwd: Path) -> bool:
    """Compile one of the programs that fail at run time; a build that fails is the harness's problem."""
    proc = run(argv, cwd=cwd, timeout=300)
    if proc.returncode:
        problem(name, "build failed")
        return False
    return True


__all__ = ["ADA_SOURCES", "COBOL_SOURCES", "D_SOURCES", "OCTAVE_SOURCES", "PASCAL_SOURCES", "PROLOG_SOURCES",
           "build", "write_sources"]
