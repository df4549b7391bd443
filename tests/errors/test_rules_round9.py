"""Rules generalised from the misses of round 9 (blind batches 69-74, tests/corpus/README.md): each text is (a
shortened copy of) a real output from the corpus, and each case fails if the generalisation is undone."""

from __future__ import annotations

import pytest

from recoup.errors.classifier import classify
from recoup.errors.taxonomy import Category

SWAKS_HEAD = ("=== Connected to 127.0.0.1.\n<-  250-AUTH LOGIN PLAIN\n -> AUTH LOGIN\n"
              "<-  235 2.7.0 Authentication successful\n -> MAIL FROM:<ci@b69.test>\n<-  250 OK\n")
SWAKS_TAIL = " -> QUIT\n<-  221 Bye\n=== Connection closed with remote host."

CASES: list[tuple[str, Category]] = [
    # SMTP reply and enhanced status codes decide, not the client's AUTH exchange or its closing trailer
    (SWAKS_HEAD + " -> DATA\n<** 552 Error: Too much mail data\n" + SWAKS_TAIL, Category.RESOURCE),
    (SWAKS_HEAD + "<** 452 4.3.1 Insufficient system storage\n" + SWAKS_TAIL, Category.RESOURCE),
    (SWAKS_HEAD + "<** 451 4.3.0 Temporary local problem - please try later\n" + SWAKS_TAIL, Category.SERVICE),
    (SWAKS_HEAD + "<** 553 5.1.3 Error: malformed address\n" + SWAKS_TAIL, Category.VALIDATION),
    ("msmtp: server message: 552 Error: Too much mail data\nmsmtp: could not send mail", Category.RESOURCE),
    # ...but an FTP 421 that names a connection limit stays a capacity problem
    ("ls: Fatal error: max-retries exceeded (421 Too many connections. Service temporarily unavailable.)",
     Category.RESOURCE),
    # IMAP response codes (RFC 5530) outweigh the words after them
    ("imaplib.IMAP4.error: b'[UNAVAILABLE] Temporary authentication failure.'", Category.SERVICE),
    ("imaplib.IMAP4.error: command SELECT illegal in state NONAUTH, only allowed in states AUTH, SELECTED",
     Category.PROGRAMMING),
    # numerical code handing a library arrays that do not fit is a defect, although it raises ValueError
    ("ValueError: incompatible shapes: a1.shape=(3, 3) and b1.shape=(4, 1)", Category.PROGRAMMING),
    ("ValueError: Expected square matrix, got a1.shape=(2, 3)", Category.PROGRAMMING),
    ("ValueError: endog and exog matrices are different sizes", Category.PROGRAMMING),
    ("OSError: [Errno -51] NetCDF: Unknown file format: '/tmp/c/download.nc'", Category.VALIDATION),
    # OCaml and Nim name defects in their own words; libcurl's CURLE_ names are transport failures
    ("Fatal error: exception Not_found\nRaised at Stdlib__Hashtbl.find in file \"hashtbl.ml\", line 539",
     Category.PROGRAMMING),
    ("Fatal error: exception Failure(\"nth\")", Category.PROGRAMMING),
    ("/tmp/b/type_mismatch.nim(1, 20) Error: type mismatch: got 'string' for '\"3\"' but expected 'int'",
     Category.PROGRAMMING),
    ("pipeline.nim(51) main\nSIGSEGV: Illegal storage access. (Attempt to read from nil?)", Category.PROGRAMMING),
    ("deployctl: GET http://127.0.0.1:1/app.tar failed: CURLE_PARTIAL_FILE (curl error 18, HTTP status 200)",
     Category.NETWORK),
    # a container image's malformed name is not a git reference
    ("Error: invalid reference format", Category.VALIDATION),
    # GraphQL and JSON-RPC: the calling code's query or call is wrong
    ("graphql.error.graphql_error.GraphQLError: Cannot query field 'shippingAddress' on type 'Order'.",
     Category.PROGRAMMING),
    ("graphql.error.syntax_error.GraphQLSyntaxError: Syntax Error: Expected Name, found <EOF>.", Category.PROGRAMMING),
    ("jsonrpc_base.jsonrpc.ProtocolError: (-32601, 'Method not found', {'code': -32601, 'data': 'get_invoices'})",
     Category.PROGRAMMING),
    ("zeep.exceptions.TransportError: Server returned response (503) with invalid XML: Invalid XML content received",
     Category.SERVICE),
    # package managers and OS administration
    ("E: Failed to fetch http://127.0.0.1:1/badhash/./Packages  Hash Sum mismatch", Category.VALIDATION),
    ("E: Type 'dep' is not known on line 1 in source list /tmp/a/sources.list\nE: The list of sources could not be "
     "read.", Category.VALIDATION),
    ("E: Syntax error /tmp/a/apt.conf:4: Extra junk at end of file", Category.VALIDATION),
    ("dpkg: error: archive '/tmp/a/dist/app_1.0_all.deb' is not a regular file", Category.FILESYSTEM),
    ("error: state file /tmp/a/lr.state is already locked\nlogrotate does not support parallel execution",
     Category.RESOURCE),
    ("useradd: invalid user name 'Deploy Bot': use --badname to ignore", Category.VALIDATION),
    # ...while a refused user name and password pair stays a refused login
    ("WRONGPASS invalid username-password pair or user is disabled.", Category.AUTH),
]


@pytest.mark.parametrize(("text", "category"), CASES)
def test_generalised_rule(text: str, category: Category) -> None:
    assert classify(text).category is category
