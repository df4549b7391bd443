"""Rule tables: which evidence points to which category, and how strongly.

Evidence is weighed, never first-match: every rule that fires adds its weight to its category and the
classifier picks the heaviest category (see `classifier.py`). Rules prefer robust, library-independent
evidence: errno names and numbers, HTTP status codes, SQLSTATE classes, exception-name suffixes and
keywords that many tools share. Regexes are compiled on first use (`compiled()`), never at import, so
`import recoup` stays cheap.
"""

from __future__ import annotations

import errno as _errno
import re
from functools import cache
from typing import NamedTuple

from recoup.errors.taxonomy import Category

NET, SVC, RES, FS, GIT, VAL, AUTH, PROG = (
    Category.NETWORK,
    Category.SERVICE,
    Category.RESOURCE,
    Category.FILESYSTEM,
    Category.GIT,
    Category.VALIDATION,
    Category.AUTH,
    Category.PROGRAMMING,
)


class Evidence(NamedTuple):
    """One piece of evidence: it supports `category` with `weight`; `reason` names it for humans."""

    category: Category
    weight: float
    reason: str


# --------------------------------------------------------------------------- errno

_ERRNO_NAMES: dict[Category, tuple[str, ...]] = {
    NET: ("ECONNREFUSED", "ECONNRESET", "ECONNABORTED", "EHOSTUNREACH", "ENETUNREACH", "ENETDOWN", "EHOSTDOWN",
          "ETIMEDOUT", "EPIPE", "ENOTCONN", "ESHUTDOWN", "EPROTO", "ENETRESET", "EADDRNOTAVAIL"),
    # EFBIG: a file-size limit (RLIMIT_FSIZE, the file system's maximum) was reached: capacity, not a bad path
    RES: ("ENOSPC", "EMFILE", "ENFILE", "ENOMEM", "EAGAIN", "EDQUOT", "ENOBUFS", "EDEADLK", "EUSERS", "EFBIG",
          "EADDRINUSE"),
    FS: ("ENOENT", "EACCES", "EPERM", "EISDIR", "ENOTDIR", "EEXIST", "EROFS", "ENOTEMPTY", "ENAMETOOLONG", "EXDEV",
         "ELOOP", "ETXTBSY", "EIO", "ESTALE"),
}

#: errno number -> (category, errno name), for the running platform.
ERRNO: dict[int, tuple[Category, str]] = {
    getattr(_errno, name): (cat, name) for cat, names in _ERRNO_NAMES.items() for name in names if hasattr(_errno, name)
}


# --------------------------------------------------------------------------- HTTP status


def status_category(status: int) -> Category | None:
    """The category an HTTP error status points to (None for statuses that say nothing about the cause)."""
    if status in (401, 403, 407, 511):
        return AUTH
    if status in (429, 507):  # too many requests; insufficient storage on the server
        return RES
    if status in (400, 413, 414, 415, 422, 431):
        return VAL
    if status == 408:
        return NET
    if 500 <= status <= 511:
        return SVC
    return None


#: Services that answered "not implemented" or "version not supported" will answer the same again.
PERMANENT_STATUSES = frozenset({501, 505})


# --------------------------------------------------------------------------- SQLSTATE (PostgreSQL, also used by others)


def sqlstate_category(state: str) -> Category | None:
    """Category of a SQLSTATE code (PostgreSQL appendix A classes)."""
    if len(state) != 5:
        return None
    cls = state[:2]
    if state in ("40001", "40P01", "55P03"):  # serialization failure, deadlock, lock not available
        return RES
    if state in ("57P01", "57P02", "57P03", "57P05"):  # admin/crash shutdown, cannot connect now
        return SVC
    if state == "57014":  # query_canceled: statement timeout
        return NET
    if state == "42501":  # insufficient_privilege
        return AUTH
    if state == "3D000":  # invalid_catalog_name: the configured database does not exist
        return VAL
    if state == "22012":  # division_by_zero
        return PROG
    return {
        "08": NET, "53": RES, "28": AUTH, "42": PROG, "23": VAL, "22": VAL, "0A": PROG, "25": PROG,
        "26": PROG, "34": PROG, "3F": PROG, "44": VAL, "58": SVC, "XX": SVC, "HV": SVC, "72": RES, "54": PROG,
    }.get(cls)


#: MySQL / MariaDB server and client error numbers (documented in the server's error reference).
MYSQL_CODES: dict[int, Category] = {
    1044: AUTH, 1045: AUTH, 1142: AUTH, 1143: AUTH, 1227: AUTH, 1698: AUTH, 1370: AUTH,
    1049: VAL, 1062: VAL, 1048: VAL, 1264: VAL, 1292: VAL, 1366: VAL, 1406: VAL, 1451: VAL, 1452: VAL, 1265: VAL,
    1064: PROG, 1146: PROG, 1054: PROG, 1051: PROG, 1109: PROG, 1136: PROG, 1305: PROG,
    1205: RES, 1213: RES, 1040: RES, 1203: RES, 1226: RES, 1114: RES, 1021: RES, 1041: RES, 1135: RES,
    1053: SVC, 1927: SVC, 3024: NET, 1317: NET, 1159: NET, 1161: NET,
    2002: NET, 2003: NET, 2005: NET, 2006: NET, 2013: NET, 2055: NET, 2026: NET,
}


# --------------------------------------------------------------------------- exception type names

#: Exact (bare or qualified) type names whose meaning is fixed, with their weight.
EXACT_TYPES: dict[str, Evidence] = {
    name: Evidence(cat, 4.0, f"{name}")
    for cat, names in {
        NET: ("ConnectionError", "ConnectionRefusedError", "ConnectionResetError", "ConnectionAbortedError",
              "BrokenPipeError", "TimeoutError", "gaierror", "herror", "SSLError", "SSLEOFError",
              "SSLCertVerificationError", "SSLZeroReturnError", "SSLSyscallError", "RemoteDisconnected",
              "IncompleteRead", "ConnectException", "UnknownHostException", "SocketTimeoutException",
              "SocketException", "NoRouteToHostException", "HttpTimeoutException", "HttpConnectTimeoutException",
              "SSLHandshakeException", "SSLException", "EOFException", "ClosedChannelException"),
        RES: ("MemoryError", "OutOfMemoryError", "BulkheadFullError", "RateLimitedError", "DeadlockDetected",
              "LockNotAvailable", "SerializationFailure", "TooManyConnections", "DiskFull",
              "InsufficientResources", "OutOfMemory"),
        SVC: ("CircuitOpenError", "BusyLoadingError", "AdminShutdown", "CannotConnectNow", "CrashShutdown",
              "ClusterDownError", "TryAgainError", "MasterDownError", "ReadOnlyError"),
        FS: ("FileNotFoundError", "IsADirectoryError", "NotADirectoryError", "FileExistsError", "PermissionError",
             "SameFileError", "FileNotFoundException", "NoSuchFileException", "FileAlreadyExistsException",
             "DirectoryNotEmptyException", "AccessDeniedException", "NotDirectoryException",
             "FileSystemException", "ReadOnlyFileSystemException"),
        VAL: ("ValueError", "UnicodeDecodeError", "UnicodeEncodeError", "UnicodeError", "JSONDecodeError",
              "TOMLDecodeError", "NumberFormatException", "DateTimeParseException", "MalformedURLException",
              "URISyntaxException", "InputMismatchException", "UniqueViolation", "NotNullViolation",
              "ForeignKeyViolation", "CheckViolation", "IntegrityError", "InvalidTextRepresentation",
              "NumericValueOutOfRange", "DataError", "InvalidURL", "InvalidSchema", "MissingSchema",
              "InvalidHeader", "InvalidJSONError", "InvalidCatalogName", "DataException"),
        AUTH: ("InsufficientPrivilege", "InvalidAuthorizationSpecification", "InvalidPassword",
               "NoPermissionError", "AuthenticationError", "AuthenticationWrongNumberOfArgsError"),
        PROG: ("AttributeError", "NameError", "UnboundLocalError", "AssertionError",
               "ZeroDivisionError", "NotImplementedError", "RecursionError", "ImportError", "ModuleNotFoundError",
               "IndentationError", "TabError", "KeyError", "IndexError", "StopIteration",
               "StopAsyncIteration", "ReferenceError", "NullPointerException",
               "ClassCastException", "ArithmeticException", "ArrayIndexOutOfBoundsException",
               "IndexOutOfBoundsException", "StringIndexOutOfBoundsException", "StackOverflowError",
               "UnsupportedOperationException", "IllegalStateException", "ConcurrentModificationException",
               "NoSuchMethodError", "NoSuchFieldError", "NoClassDefFoundError", "ClassNotFoundException",
               "NoSuchElementException", "IllegalArgumentException", "AssertionFailedError", "UndefinedTable",
               "UndefinedColumn", "UndefinedFunction", "DivisionByZero", "SchemaError", "FloatingPointError",
               "OverflowError"),
    }.items()
    for name in names
}
EXACT_TYPES.update({
    # generic in JavaScript (JSON.parse, new URL and BigInt throw them for bad input): the message decides
    "TypeError": Evidence(PROG, 3.0, "TypeError"),
    "SyntaxError": Evidence(PROG, 3.0, "SyntaxError"),
    "RangeError": Evidence(PROG, 3.0, "RangeError"),
    # Java throws it for bad input as often as for bugs: let the message decide
    "IllegalArgumentException": Evidence(PROG, 2.0, "IllegalArgumentException"),
    # .NET: a path the process may not touch, not a refused login
    "UnauthorizedAccessException": Evidence(FS, 5.0, "UnauthorizedAccessException"),
    # recoup's own policy errors: the category and transience are part of their contract
    # SQLAlchemy's ORM refuses a mapping or a session state the calling code set up wrongly
    **{f"sqlalchemy.{name}": Evidence(PROG, 5.0, name.rsplit(".", 1)[-1]) for name in (
        "exc.ArgumentError", "exc.InvalidRequestError", "exc.NoForeignKeysError", "exc.NoReferencedTableError",
        "exc.AmbiguousForeignKeysError", "exc.CompileError", "exc.UnboundExecutionError",
        "exc.ObjectNotExecutableError",
        "orm.exc.DetachedInstanceError", "orm.exc.UnmappedInstanceError", "orm.exc.UnmappedClassError",
        "orm.exc.MappedAnnotationError", "orm.exc.ObjectDeletedError")},
    # Django refuses a query or a call the calling code got wrong (an unknown field, ORM use from async code)
    **{f"django.core.exceptions.{name}": Evidence(PROG, 5.0, name) for name in (
        "FieldError", "SynchronousOnlyOperation", "ImproperlyConfigured", "AppRegistryNotReady", "FieldDoesNotExist")},
    "recoup.policies.errors.CircuitOpenError": Evidence(SVC, 6.0, "recoup CircuitOpenError"),
    "recoup.policies.errors.BulkheadFullError": Evidence(RES, 6.0, "recoup BulkheadFullError"),
    "recoup.policies.errors.RateLimitedError": Evidence(RES, 6.0, "recoup RateLimitedError"),
    "recoup.policies.errors.DeadlineExceeded": Evidence(NET, 6.0, "recoup DeadlineExceeded"),
})

#: Types whose instances must be looked at (errno, status, SQLSTATE, stderr, message) before deciding.
INSTANCE_DEPENDENT = frozenset({
    "OSError", "IOError", "EnvironmentError", "Error", "Exception", "BaseException", "RuntimeError",
    "HTTPError", "HTTPStatusError", "ClientResponseError", "ResponseError", "CalledProcessError",
    "OperationalError", "DatabaseError", "ProgrammingError", "InterfaceError", "InternalError", "URLError",
    "ConnectionError", "RequestException", "RedisError", "MaxRetryError", "ClientError", "PermissionError",
    "SQLAlchemyError", "DBAPIError", "StatementError", "TimeoutError", "ValueError", "RetryError",
})

#: Suffix / substring rules on the bare type name, for libraries recoup has never seen.
_TYPE_NAME_RULES: tuple[tuple[str, Category, float], ...] = (
    (r"Connect(ion|or)?(Error|Exception|Refused|Reset|Aborted|Closed|Lost)|Disconnect|ProtocolError|"
     r"ConnectTimeout|ReadTimeout|WriteTimeout|Socket|NetworkError|NameResolution|UnknownHost|Unreachable|"
     # acronyms match in capitals only: ProceSSLookupError is no TLS failure
     r"(?-i:SSL|TLS|DNS)|Certificate|ProxyError|ServerDisconnected|(?<!Max)PayloadError|EOFError|"
     r"NoBrokersAvailable|NoNodeAvailable|BrokerNotAvailable|NodeNotReady|EndpointConnection", NET, 3.0),
    # a pool's or lock's timeout is a capacity wait that ran out, not a slow peer
    (r"(?<!Pool)(?<!Lock)Time(d)?[Oo]ut|Deadline", NET, 2.5),
    (r"ServerError|ServiceUnavailable|InternalServerError|BadGateway|GatewayTimeout|Unavailable|ShuttingDown|"
     r"BusyLoading|CircuitOpen|CircuitBreaker|[a-z]Down$", SVC, 3.5),
    (r"RateLimit|Throttl|TooManyRequests|Quota|OutOfMemory|ResourceExhausted|Deadlock|LockTimeout|LockError|"
     r"PoolTimeout|Acquire\w*Timeout|PoolExhausted|PoolFull|EmptyPool|PoolEmpty|TooMany|Bulkhead|Capacity|DiskFull|NoSpace|LimitExceeded|"
     r"ThroughputExceeded|QuotaExceeded|RejectedExecution", RES, 3.5),
    (r"FileNotFound|NoSuchFile|IsADirectory|NotADirectory|FileExists|AlreadyExists|DirectoryNotEmpty|"
     r"ReadOnlyFileSystem|FileSystem", FS, 3.0),
    (r"Auth|Unauthori[sz]ed|Forbidden|PermissionDenied|AccessDenied|NoPermission|Credential|InvalidToken|"
     r"TokenExpired|ExpiredToken|InvalidSignature|InsufficientPrivilege|NotAuthenticated|Login", AUTH, 3.5),
    (r"Validation|ParseError|ParserError|ScannerError|DecodeError|DecodingError|FormatError|"
     r"InvalidInput|InvalidValue|InvalidArgument|InvalidURL|InvalidRequest|BadRequest|Unprocessable|"
     r"Integrity|Violation|ConstraintError|MarshalError|Unmarshal|YAMLError|ConstructorError|ReaderError|"
     r"ComposerError|NumberFormat|DataError|SchemaValidation|JSONError|CsvError|DateTimeParse|InvalidUrl|"
     r"Format(Error|Exception)|InvalidParameter|ArgumentOutOfRange|^Bad\w*(File|Data|Format)|Unpickling|"
     r"MissingSectionHeader|InvalidFile|Corrupt|Malformed|Truncation|InvalidVersion|InvalidSpecifier",
     VAL, 3.0),
    (r"(?<!Wrong)(?<!Parameter)TypeError|AttributeError|NameError|NullPointer|NullReference|NilPointer|IndexOutOfRange|OutOfBounds|"
     r"KeyError|IndexError|AssertionError|NotImplemented|Recursion|StackOverflow|ImportError|ModuleNotFound|"
     r"ClassCast|IllegalState|UnsupportedOperation|ConcurrentModification|ProgrammingError|UndefinedTable|"
     r"UndefinedColumn|UndefinedFunction|UndefinedObject|ReferenceError|SyntaxError|NoMethod|KeyNotFound|"
     r"ArgumentNull|InvalidOperation|DivideByZero|DivisionByZero|InvalidCast|Overflow|PatternSyntax|"
     r"RegexError|ColumnNotFound|InFailedSqlTransaction|Duplicate(Table|Column|Object|Function|Schema|Database)",
     PROG, 3.0),
    (r"GitCommandError|GitError|MergeConflict|InvalidGitRepository", GIT, 3.0),
    (r"NoSuchPath", FS, 3.0),
    (r"MissingProperty|MissingMethod|ArityException|MultipleCompilationErrors|"
     r"SchemaDefinition|MetadataNotFound|AccessViolation|DivByZero", PROG, 4.0),
    (r"MissingMandatory|MissingRequired|WrongType", VAL, 4.0),
    (r"MissingConfig|^Path\w*Error$", FS, 4.0),
    (r"^ConflictError$|WriteConflict|TransactionConflict", RES, 3.5),
    (r"Draining", SVC, 3.5),
    # a parser refusing a document's entities or DTD: the document is bad input, nobody's credentials
    (r"(Entities|DTD|ExternalReference)Forbidden", VAL, 5.0),
    # data formats: a syntax or structure error in a document is bad input, not bad code
    (r"^(XML|JSON(?!WebToken)|YAML|TOML|CSV|HTML|INI|Zip(?!kin)|GZip|Tar|Archive|Plist|Protobuf|Message)\w*"
     r"(Syntax|Parse|Format|Data)?"
     r"(Error|Exception)$|Unpack|Deserializ|Unmarshal|Unpickl|Unidentified|"
     r"Unsupported\w*(Charset|Encoding|Format|MediaType)|SchemaError|Structure\w*Error|"
     r"^(?!Template|Regex|XPath|Pattern|Sql|SQL|Query|Expression|Script|Grammar|GraphQL|Css)\w+SyntaxError$", VAL, 4.0),
    # generic adjectives of bad input: weaker than a named cause (InvalidSignature is auth, InvalidCast a defect)
    (r"^Invalid|Invalid$|^Malformed|^Unknown|^Unexpected|^Bad(?!Gateway|Signature)[A-Z]\w*(Error|Exception|File)$",
     VAL, 2.5),
    (r"Parse(r|Error|Exception)|Parsing(Error|Exception)|Unparseable|Expat|Decod", VAL, 3.0),
    (r"QueueFull|(Queue|Buffer|Pool|Channel)Full|^Full$", RES, 3.5),
    (r"Signature|Claim|Issuer|Audience", AUTH, 3.5),
    (r"NoSuchAlgorithm|NoSuchProvider|NoSuchPadding|NoSuchMethod|NoSuchField|NoSuchAttribute", PROG, 3.0),
    (r"Undefined|DataClone|NotSerializable|IllegalFormat|FormatConversion|Template\w*Error|Unbound|"
     r"FrozenInstance|ReadOnlyAttribute", PROG, 3.5),
)


class TextRule(NamedTuple):
    pattern: str
    category: Category
    weight: float
    reason: str


# --------------------------------------------------------------------------- text rules

_TEXT_RULES: tuple[TextRule, ...] = (
    # generic words: weak evidence (2.0, just the unknown threshold) that any specific rule outweighs,
    # so that texts from tools no rule knows still land in the likely category
    TextRule(r"(?<!\.)\b(invalid|illegal|malformed|incorrect|unexpected(?! (error|exception|failure|condition))|"
             r"unrecognized|not (a )?valid|cannot decode|"
             r"could not decode|wrong format|bad (input|value|format|data|syntax|argument))\b", VAL, 2.0,
             "input looks malformed"),
    TextRule(r"(?<![:=] )\b(undefined|not defined|null|nil|unbound|not implemented|assert\w*|panic(ked)?)\b", PROG, 2.0,
             "looks like a defect"),
    TextRule(r"\b(exhausted|(?<!retries )exceeded|limit reached|too many|over capacity|throttled|"
             r"out of (memory|space|disk|resources|slots|capacity|connections|file descriptors|handles))\b", RES, 2.0,
             "a limit was reached"),
    TextRule(r"(?<!resource )(?<!resource temporarily )\b(unavailable|try again later|temporarily|maintenance|"
             r"server error|internal error|overloaded)\b",
             SVC, 2.0,
             "service unavailable"),
    TextRule(r"(?<![/\w])(denied|unauthori[sz]ed|credentials?|password|login)\b(?![/\w\"])", AUTH, 2.0,
             "access refused"),
    # network
    TextRule(r"\bECONNREFUSED\b|connection refused|actively refused|\bConnectException\b|refused to connect",
             NET, 4.0, "connection refused"),
    TextRule(r"\bECONNRESET\b|connection reset|reset by peer|\bEPIPE\b|broken pipe", NET, 4.0, "connection reset"),
    TextRule(r"\bECONNABORTED\b|connection aborted|software caused connection abort", NET, 4.0, "connection aborted"),
    TextRule(r"\bE(HOST|NET)UNREACH\b|no route to host|(host|network) is unreachable|\bENETDOWN\b|network is down",
             NET, 4.0, "host unreachable"),
    TextRule(r"\bENOTFOUND\b|\bEAI_(AGAIN|NONAME|NODATA|FAIL)\b|getaddrinfo|name or service not known|"
             r"nodename nor servname|failure in name resolution|host or service not provided, or not known|"
             r"(could not|couldn't|cannot|can't|unable to) resolve (the )?(host|hostname|proxy|address|server|name)|"
             r"no such host|UnknownHost|name ?resolution|"
             r"failed to resolve(?! (import|module|entry|dependency|package|path|file))|resolve host|"
             r"dns (lookup|resolution)|"
             r"unknown (mysql |mariadb )?server host|host not found|lookup [\w.-]+ on",
             NET, 4.5, "DNS resolution failed"),
    TextRule(r"\bETIMEDOUT\b|timed? ?out\b|\btimeout\b|timeout(error|exception)|deadline exceeded|i/o timeout",
             NET, 2.5, "timeout"),
    TextRule(r"\bssl\b|\btls\b|handshake|wrong version number|\bEPROTO\b|unrecognized ssl message|"
             r"plaintext connection|certificate (verify|has expired|problem|signed by|is not valid for|trust chain)|"
             r"self[- ]signed certificate|unknown (ca|certificate authority)|bad certificate|"
             r"certificate_verify_failed|x509: |certificate[^\n]{0,40} (is )?not trusted|known issuer|"
             r"does not match hostname|hostname mismatch", NET, 3.0, "TLS failure"),
    TextRule(r"host key verification failed|remote host identification has changed|\bx509: (?!malformed)|"
             r"certificate is not valid for|certificate signed by unknown authority|certificate_verify_failed|"
             r"ssl connection could not be established|certificate verification failed", NET, 8.0,
             "the server's identity could not be verified"),
    TextRule(r"failed to respond|nohttpresponse|\bnxdomain\b", NET, 4.5, "no answer or no such name"),
    TextRule(r"can't contact ldap server|\bnt_status_(connection_refused|connection_reset|io_timeout|host_unreachable|"
             r"network_unreachable|connection_disconnected)\b", NET, 7.0,
             "protocol client could not reach its server"),
    TextRule(r"\bnt_status_(object_name_not_found|object_path_not_found|no_such_file|not_a_directory|"
             r"file_is_a_directory|object_name_collision)\b|nonexisting document|"
             r"non-?existent (file|document|directory)",
             FS, 7.0, "the named file or path does not exist"),
    TextRule(r"\bnt_status_(insufficient_resources|disk_full|too_many_opened_files|quota_exceeded)\b", RES, 7.0,
             "the file server ran out of a resource"),
    TextRule(r"\bnt_status_(logon_failure|access_denied|wrong_password|account_locked_out|account_disabled)\b|"
             r"insufficient access \(50\)|invalid credentials \(49\)|unknown user name|reason: (noaccess|"
             r"authorizationerror|nocreation)|unknown security name", AUTH, 8.0,
             "the server refused these credentials"),
    TextRule(r"object class violation|undefined attribute type|invalid dn syntax|reason: (wrongtype|wrongvalue|"
             r"wronglength|wrongencoding|badvalue|inconsistentvalue)|below the length requirements|"
             r"(password|passphrase) length is too short", VAL, 9.0, "the server refused the data as malformed"),
    TextRule(r"server is unwilling to perform|\b421 service not available|service not available, closing", SVC, 6.0,
             "the server refused to serve now"),
    TextRule(r"\bnet::err_(connection_\w+|name_not_resolved|name_resolution_failed|empty_response|cert_\w+|timed_out|"
             r"address_unreachable|address_invalid|ssl_\w+|tunnel_connection_failed|proxy_connection_failed|"
             r"network_changed|internet_disconnected|socket_not_connected|http2_protocol_error)\b", NET, 9.0,
             "browser network error"),
    TextRule(r"\{:?error,\s*:?(closed|timeout|econnrefused|econnreset|econnaborted|ehostunreach|enetunreach|nxdomain|"
             r"socket_closed_remotely|server_closed|etimedout|epipe)\}|\{shutdown, *:?server_closed\}",
             NET, 7.0, "an Erlang error tuple names a transport failure"),
    # an alert this side generated: it refused the peer's certificate (a refused client certificate is the peer's)
    TextRule(r"generated client alert|client alert: fatal", NET, 13.0, "this side refused the peer's certificate"),
    # a socket read that timed out reports EAGAIN: it is the read's timeout, not a resource limit
    TextRule(r"(\brecv|\bread\b|reading|receiv\w*|i/o error)[^\n]{0,80}(resource temporarily unavailable|"
             r"os error 11\b)", NET, 6.0, "a socket read timed out"),
    TextRule(r"unexpected eof|eof occurred|remote end closed|(server|peer|remote) (has )?(closed|disconnected|"
             r"hung up)|socket hang ?up|hang up|connection (was |is |has been )?(closed|lost|broken|dropped)|"
             r"closed the connection|lost connection|incomplete ?read|ended prematurely|empty reply from server|"
             r"recv failure|premature(?! end\b)|transfer closed|server closed|gone away|payload is not completed|"
             r"without sending (a |complete )?(response|message)|connection terminated|protocol banner|"
             r"error reading [\w ]{0,20}banner",
             NET, 3.0, "peer closed the connection"),
    TextRule(r"failed to connect|could not connect|couldn'?t connect|can'?t connect|cannot connect|unable to connect|"
             r"connection (attempt )?failed|failed to establish a new connection|error connecting|connect error|"
             r"connection error|network (error|failure)|cannot assign requested address|"
             r"connection attempts? failed",
             NET, 2.0, "connect failed"),
    TextRule(r"fetch failed|request to \S+ failed|connect call failed|operation too slow|rpc failed|"
             r"curl (error )?\(?(5|6|7|16|18|28|35|52|55|56)\b|"
             r"curle_(couldnt_(connect|resolve_host|resolve_proxy)|operation_timedout|"
             r"partial_file|recv_error|send_error|got_nothing|ssl_\w+|peer_failed_verification|http2\w*)\b|"
             r"gave http response to https client|deadline_exceeded",
             NET, 3.0, "request failed"),
    TextRule(r"(?m)[\"']?: eof$|^eof$", NET, 2.5, "unexpected EOF"),
    TextRule(r"\bproxy\b[^\n]{0,40}(error|fail|refused)|no response from|:\d+ - no response", NET, 2.5,
             "proxy error or no response"),
    TextRule(r"curl: \((5|6|7|16|18|28|35|52|55|56|60|92)\)", NET, 3.0, "curl transport error"),
    TextRule(r"couldn'?t connect to (the )?(server|database|host)|failed to connect to [\w.:\[\]-]+ port \d+", NET, 4.5,
             "connect refused (libcurl)"),
    TextRule(r"(connect|connection)[^\n]{0,60}\bsocket\b[^\n]{0,120}(no such file|\(2\)|\(111\)|refused)",
             NET, 5.0, "local server socket missing"),
    # service
    TextRule(r"internal server error|bad gateway|service (is )?(temporarily )?unavailable|gateway time-?out|"
             r"\bserver error\b|(?<!resource temporarily )\bUNAVAILABLE\b|upstream (connect )?error|serviceunavailable|"
             r"no healthy upstream|"
             r"temporarily unable to service|down for maintenance", SVC, 3.5, "server-side failure"),
    TextRule(r"circuit[^\n]{0,80}\b(open|opened)\b|breaker (is )?open", SVC, 6.0, "circuit breaker open"),
    TextRule(r"database system is (starting up|shutting down|in recovery)|administrator command|"
             r"server (is )?(shutting down|starting up)|shutdown in progress|loading the dataset|"
             r"MASTERDOWN|TRYAGAIN|CLUSTERDOWN|not accepting connections|in recovery mode|"
             r"READONLY You can't write|channel_error|closed by (the )?server|"
             r"server sent close", SVC, 4.0, "service restarting or closing"),
    # a broker or database that forced clients off, or was switched to read-only for a fail-over
    TextRule(r"connection[_-]forced|broker forced|running with the --(super-)?read-only option", SVC, 7.0,
             "the server forced clients off or refuses writes"),
    TextRule(r"\bis busy (running|processing|loading|executing)|script kill", SVC, 5.0, "server busy with other work"),
    TextRule(r"\bservfail\b|not currently serving|no responders (are )?available|\brejecting connections\b|"
             r"server terminated abnormally",
             SVC, 5.0,
             "nobody serving the request"),
    # resource
    TextRule(r"memoryerror|out of memory|outofmemory|\bENOMEM\b|cannot allocate memory|heap out of memory|"
             r"heap limit|java heap space|gc overhead limit|(memory|heap) exhausted|\bOOM\b|maxmemory|"
             r"allocation failed|memory limit|oomkilled|oom-kill|allowed memory size", RES, 4.5, "out of memory"),
    TextRule(r"no space left|\bENOSPC\b|dis[ck] (is )?full|disk quota|\bEDQUOT\b|quota exceeded|"
             r"not enough space on the disk|insufficient (disk )?space", RES, 7.0,
             "no space left"),
    TextRule(r"too many open files|\bEMFILE\b|\bENFILE\b|file table overflow", RES, 4.5, "too many open files"),
    TextRule(r"resource temporarily unavailable|\bEAGAIN\b|fork: retry|can't start new thread|cannot fork",
             RES, 3.0, "resource temporarily unavailable"),
    TextRule(r"too many (connections|clients)|max(imum)? number of clients|max_user_connections|max_connections|"
             r"connection limit|remaining connection slots|exceeded the '?\w+'? resource", RES, 5.0,
             "connection limit reached"),
    TextRule(r"limiting (requests|connections)|worker_connections are not enough|connections are not enough",
             RES, 6.0, "the server limits requests or connections"),
    TextRule(r"timeout acquiring a connection|pool is probably full|acquire ?timeout|"
             r"\bpool\b[^\n]{0,40}(exhausted|full|limit|timeout|timed out)|queuepool limit|pooltimeout|"
             r"no (free|available) connection|no connections? (is |are )?(available|left|free)|pool is (empty|full)|"
             r"(couldn't|could not|unable to|failed to) (get|acquire|obtain|check ?out) a connection (from|after|in)|"
             r"limit of size \d+ overflow|acquire\w* (a )?connection from [\w.-]*pool", RES, 10.0,
             "connection pool exhausted"),
    TextRule(r"rejected from [\w.$]*(executor|pool)|"
             r"\bexceed(s|ed)?\b[^\n]{0,40}\blimit\b|file too large|file size limit|\bnack(ed)?\b|"
             r"(message|file|request|payload|upload) size exceeds|exceeds [\w ]{0,20}maximum [\w ]{0,10}size|"
             r"\blimit\b[^\n]{0,40}\(\d+\) (is |was |has been )?reached|"
             r"message(s)? (was |were )?rejected by (the )?broker", RES, 3.5, "a size or broker limit refused it"),
    TextRule(r"rate.?limit|throttl|too many requests|\bquota|slow ?down|limit exceeded|request limit", RES, 3.5,
             "rate limited"),
    TextRule(r"database is locked|table is locked|\bSQLITE_BUSY\b|lock wait timeout|lock timeout|"
             r"could not obtain lock|lock not available|conflicting lock|could not set lock|"
             r"another [\w-]+ (instance|process) is already running|deadlock|could not serialize|serialization failure|"
             r"try restarting transaction|(could not|failed to|unable to) (acquire|obtain|get) (a |the )?lock|"
             r"unable to lock|resource busy|(is|was) already locked|locked by another (process|instance)", RES, 5.0,
             "lock contention"),
    TextRule(r"bulkhead|\bno token\b|too busy|server busy|resource exhausted|RESOURCE_EXHAUSTED|"
             r"resources? (exhausted|limit)", RES, 2.5, "capacity exhausted"),
    # filesystem
    TextRule(r"no such file or directory|\bENOENT\b|cannot find the (file|path)|file not found|"
             r"no such file\b", FS, 3.0, "no such file"),
    TextRule(r"permission denied|\bEACCES\b|\bEPERM\b|operation not permitted", FS, 2.5, "permission denied"),
    TextRule(r"is a directory|\bEISDIR\b|illegal operation on a directory|not a directory|\bENOTDIR\b|"
             r"file exists|file already exists|\bEEXIST\b|read-only file system|\bEROFS\b|readonly database|"
             r"read-only database|directory not empty|\bENOTEMPTY\b|name too long|\bENAMETOOLONG\b|cross-device|"
             r"\bEXDEV\b|are the same file|symbolic links|\bELOOP\b|text file busy|not a regular file", FS, 3.5,
             "path problem"),
    TextRule(r"(?m)^(/bin/|/usr/bin/)?(ba|da|z|k)?sh: (\d+: |line \d+: )?[\w./-]+: not found|"
             r"cannot find or open|could not find or open|can'?t find command|is not available in path|"
             r"failed to load external entity|name not matched|"
             r"(could not|cannot|unable to) access [\w ]{0,40}\b(file|directory|path|datadir|data ?dir)\b|"
             r"\b(dest|destination|target) (path |file |directory )?already exists|"
             r"fatal: '[./~][^'\n]*' already exists|"
             r"(could not|couldn't|cannot) find or access|command not found|"
             r"not found in \$?PATH|"
             r"executable file not found|is not recognized as an internal",
             FS, 3.5, "command not found"),
    TextRule(r"unable to open database file|file is not a database|disk i/o error|input/output error|\beio\b|"
             r"\bi/o error|"
             r"database disk image is malformed", FS, 3.5, "unreadable file"),
    TextRule(r"(cannot|can't|could not|unable to) open [\"'/]", FS, 2.5, "cannot open a file"),
    TextRule(r"outside repository|beyond a symbolic link|access to the path [^\n]{1,200} is denied|"
             r"file not found ?: ?/|error opening file ['\"/]", FS, 8.0,
             "a path outside the repository, denied or missing"),
    TextRule(r"curl: \((23|26|37)\)", FS, 3.0, "curl file error"),
    TextRule(r"\b(key_?file|file|directory|dir|folder|path|keystore)( ['\"/]\S*)?:? (does not exist|"
             r"doesn't exist|not found|is missing)\b|hard link not allowed|not allowed for directory", FS, 5.0,
             "path does not exist"),
    TextRule(r"(cannot|can't|failed to|unable to|could not) (open|create|stat|remove|access|touch|read|write|"
             r"mkdir|delete|rename)\b|failure writing output|write error|failed to open/read", FS, 1.5,
             "file operation failed"),
    # git
    TextRule(r"not a git repository|does not appear to be a git repository|index\.lock|\.git/[\w/.-]*\.lock|"
             r"another git process|CONFLICT \(|merge conflict|automatic merge failed|fix conflicts|"
             r"unmerged (files|paths)|would be overwritten by|your local changes|untracked working tree files|"
             r"non-fast-forward|\[rejected\]|failed to push some refs|updates were rejected|unknown revision|"
             r"ambiguous argument|bad revision|bad object|not a valid object name|invalid reference(?! format)|"
             r"pathspec [^\n]{0,300}did not match|did not match any file|rebase-(merge|apply)|rebase in progress|"
             r"another rebase|could not apply [0-9a-f]|not concluded your merge|MERGE_HEAD|unrelated histories|"
             r"not possible to fast-forward|divergent branches|how to reconcile|couldn't find remote ref|"
             r"a branch named [^\n]{1,100} already exists|nothing to commit|not currently on a branch|"
             r"no upstream branch|no configured push destination|detached head|head detached|"
             r"shallow update not allowed|refusing to (merge|update)|not something we can merge|"
             r"working tree (clean|files)|repository [^\n]{1,200} does not exist|cherry-pick|"
             r"you need to resolve your current index|(tag|branch|remote|worktree) '[^'\n]+' already exists|"
             r"no stash entries|git bisect|no rebase in progress|patch does not apply|patch failed|"
             r"does not have any commits yet|no names found|cannot describe anything|no such (remote|branch|ref)|"
             r"(branch|remote|tag|ref|revision|commit) '[^'\n]+' (not found|does not exist)|"
             r"not a valid (branch|ref|reference|tag|commit|object)( name)?\b|patch format|"
             r"as a valid ref\b|not a symbolic ref|bad source, source=|"
             r"(tag|branch|remote|worktree) '?[\w./-]+'? already exists|"
             r"already checked out|nothing to amend|no commits yet",
             GIT, 6.0, "git repository state"),
    TextRule(r"\b(branch|commits?|rebase|worktree|revision|stash|refs/[\w/.-]+|remote '[^'\n]+')\b",
             GIT, 2.0, "mentions repository state"),
    TextRule(r"\[?'git'[^\n]{0,200}non-zero exit status 1(28|29)\b", GIT, 2.5, "git exited 128"),
    # auth
    TextRule(r"permission denied \(publickey|\bpublickey\b|"
             r"could not read (username|password)|terminal prompts disabled|"
             r"authentication (failed|required|failure|error)|auth(entication)? failed|authorization failed|"
             r"password authentication|invalid ([\w-]+ or )?(username|password|credentials|token|api[ _-]?key|"
             r"access key|"
             r"signature)|(credentials?|api[ _-]?key|access key|signature) (is|are) "
             r"(not valid|invalid|expired|revoked)|"
             r"username-password|wrong ?pass|\bWRONGPASS\b|\bNOAUTH\b|\bNOPERM\b|"
             r"no permissions? to|access denied|access is denied|unauthori[sz]ed|\bforbidden\b|unauthenticated|"
             r"not (authenticated|authori[sz]ed|permitted to access)|permission denied for|"
             r"insufficient[_ ]privilege|must be owner|no pg_hba\.conf entry|login failed|"
             r"(token|credentials|session|signature|jwt) (is |has |have )?(been )?expired|expired (token|credentials)|"
             r"permission denied, please try again|invalid_grant|"
             r"invalid_client|bad credentials|unable to authenticate|log ?in again|credentials (are|were) |"
             r"SignatureDoesNotMatch|PERMISSION_DENIED|\bUNAUTHENTICATED\b|"
             r"denied to user|command denied|(incorrect|wrong|bad) (password|passphrase|credentials)|"
             r"permission denied to (create|drop|alter|set|grant|execute|connect|access|use)\b|"
             r"permissions? violation|authorization[ _]violation|"
             r"passphrase [^\n]{0,80}is incorrect|\beneedauth\b|requires you to be logged in|"
             r"must have (push|write|read|admin|pull) access|\bhtpasswd\b(?!: )|\": password mismatch|"
             r"not allowed because|not listed in allowusers|\binvalid user\b(?! ?name)|"
             r"password (is )?(incorrect|wrong|invalid)|login (was )?refused|"
             r"signature (verification )?(failed|mismatch|is invalid|does not match)|"
             r"signature\b[^\n]{0,60}\b(does not match|expired|mismatch|invalid|verification failed)|"
             r"signature age|login incorrect|access[_ ]refused|"
             r"access to (queue|exchange|vhost|topic|resource) [^\n]{0,80}refused|"
             r"(not enough|insufficient) privileges?|"
             r"account is locked|account (has been )?(locked|disabled)|password has expired|must (set|change) "
             r"(your )?password",
             AUTH, 5.0, "authentication or authorization refused"),
    # the peer refused for lack of credentials: outweighs the TLS or connect words around it
    TextRule(r"alert[ _](certificate[ _]required|unknown[ _]ca|bad[ _]certificate|certificate[ _]unknown|"
             r"certificate[ _]revoked|certificate[ _]expired|access[ _]denied)|certificate_required|"
             r"peer did not return a certificate|pg_hba\.conf rejects|tls: certificate required|"
             r"refused[:,]? (not authori[sz]ed|bad user ?name or password|identifier rejected)", AUTH, 12.0,
             "the peer demanded credentials"),
    # ssh offered its keys and the server took none: refused credentials, whatever handshake words surround it
    TextRule(r"no supported methods remain|unable to authenticate, attempted methods", AUTH, 8.0,
             "the server accepted none of the offered keys"),
    # data encrypted for another key or password: the secret is wrong, not the data
    TextRule(r"decryption failed|(could not|failed to|unable to|cannot) decrypt|bad decrypt|"
             r"no [\w ]{0,20}secrets? (were )?found that could decrypt", AUTH, 6.0, "wrong key or password"),
    # a token's claims were refused: issuer, audience, not-before (a JWT that is merely unparseable stays validation)
    TextRule(r"invalid_claim|invalid claim|(token|jwt|signature) is not yet valid|immature signature|"
             r"invalid (issuer|audience)|audience doesn't match|missing required claim", AUTH, 9.0,
             "token claims refused"),
    TextRule(r"(?m)^panic: ", PROG, 2.5, "panic"),
    TextRule(r"\brole \"[^\"\n]{1,100}\" does not exist|\buser \"[^\"\n]{1,100}\" does not exist", AUTH, 5.0,
             "unknown role"),
    # validation
    TextRule(r"validation ?(error|exception)|validation (failed|errors?)|failed validating|is not valid|not a valid|"
             r"invalid_argument|invalidparameter|"
             r"is a required property|is not one of|is not of type|field required|input should be|"
             r"should be a valid|must be (a|an|one of|of type|between|at least|at most)", VAL, 4.0,
             "schema validation failed"),
    TextRule(r"not valid json|invalid json|in json at position|json input|json\.parse|cannot unmarshal|"
             r"unexpected end of json|jsondecodeerror|while parsing json", VAL, 5.0, "malformed JSON"),
    TextRule(r"expecting (value|property name|','|':'|delimiter)|unterminated string|extra data|"
             r"invalid character [^\n]{0,40}(looking for|after|in)|"
             r"while (scanning|parsing) a|mapping values are not allowed|found character|expected <[\w ]+>|"
             r"illegal character|cannot overwrite a value|field larger than field limit|expected after|"
             r"new-line character seen in unquoted field|eof while parsing|unexpected end of (input|file)|"
             r"could not (convert|parse|decode)|invalid literal|does not match format|badly formed|"
             r"incorrect padding|can't decode|codec can't|invalid (start|continuation) byte|"
             r"does not appear to be an? ipv|for input string|could not be parsed|unknown url type|"
             r"not an? (valid )?(?!regular\b)[\w-]+ (file|archive)|not a gzipped|corrupt|no valid [\w-]+ data|"
             r"unable to load|could not read certificate|no supported data|invalid requirement|"
             r"conversionsyntax|no section headers|could not find mark|cannot find zipfile directory|"
             r"end-of-central-directory|while parsing|at character offset|incorrect header check|"
             r"illegal [\w ]{0,20}(data|character|input|sequence)|invalid (multibyte|byte) sequence|"
             r"(?<!\.)\binvalid [a-z][\w-]*( string| value| id)?: |unknown time.?zone|unexpected char|value too long|"
             r"no time zone found|checksum (mismatch|failed|error|are wrong|is wrong|does not match)|"
             r"checksums? did not match|do not match the hashes|hash(es)? (do|does) not match|hash (sum )?mismatch|"
             r"invalid (url|uri|port|host|header|isoformat|date|time|number|value|input|format|escape|"
             r"argument|option|base64|count|character|literal|token|request)|malformed|parse error|"
             r"failed to parse|parsing error|cannot convert|not in gzip format|"
             r"does not look like an? [\w ]{0,20}(tar|zip|gzip|bundle|archive)|"
             r"cannot parse|parsing time|\byaml: line \d+: |did not find expected (node|key|<|-|alphabetic)|"
             r"\bparse \"[^\"\n]*\": |url rejected|bad hostname|"
             r"unrecognized option|unknown option|invalid input syntax|bad request|unprocessable",
             VAL, 3.5, "malformed input"),
    TextRule(r"format not recogni[sz]ed|not recogni[sz]ed as an? [\w ]{1,30}(file|format|archive)|"
             r"unknown (header|(file )?format(?! code)|magic|file type|compression|unit|escape|port)|bad magic|"
             r"(magic|header) (number )?(mismatch|not found)|\bis not an? (?!regular|directory)([\w-]+ ){0,3}"
             r"(file|key|archive|image|document|certificate)\b",
             VAL, 3.5, "unrecognised data format"),
    TextRule(r"expected [^\n]{1,80}\b(but )?(got|found|received)\b", VAL, 2.5, "expected something else"),
    TextRule(r"too short|short (substrate|read|input|buffer)|truncated|premature end\b|underrun|asn1|pem routines|"
             r"wrong tag|"
             r"decoder routines|(port|value|argument|number|date|month|day|year|hour|minute) out of range",
             VAL, 3.5, "truncated or out-of-range data"),
    TextRule(r"statuscode\.(internal|data_loss)\b", SVC, 5.0, "gRPC server status"),
    TextRule(r"(?m)^[\w./-]+\.[a-z]{1,5}:\d+:\d+: ", PROG, 4.0, "file:line:column diagnostic"),
    TextRule(r"error\(s\) found in configuration file|fatal errors found in configuration|"
             r"(syntax|parse) error on line \d+ of [\w./-]+\.(conf|cfg|ini|config|ya?ml|toml|json|xml)\b", VAL, 4.5,
             "a configuration file was refused"),
    # a syntax error located in a data or config file is bad input; in a source file it is a defect
    TextRule(r"\b(xml|json|yaml|toml|csv|ini|html) (syntax|parse|parsing) error|wrong number of fields|"
             r"encapsulated token|expected (begin|end)_(object|array)|but was (begin|end)_(object|array)|"
             r"(did not contain|not) valid utf-?8|validity error|fails to validate|failed to validate|"
             r"negative or zero image size|@ error/\w+\.c/read\w*image", VAL, 6.0, "a data document is malformed"),
    TextRule(r"(syntax|parse|parsing) error[^\n]{0,200}\b(in|of) [\w./-]+\.(ini|json|ya?ml|toml|xml|csv|conf|cfg|env|"
             r"properties)\b[^\n]{0,12}\bline \d+|"
             r"(cannot|could not|failed to|unable to) (load|read|parse) [\w./-]+\."
             r"(ini|json|ya?ml|toml|xml|csv|conf|cfg|config|env|properties)\b[^\n]{0,40}syntax error|"
             r"too large body|body too large|request entity too large|"
             r"(syntax|parse) error:? [\w./-]+\.(conf|cfg|ini|config|ya?ml|toml|json|xml|list|sources)\b|"
             r"(unknown|not known|unrecognized|invalid)[^\n]{0,40} on line \d+ (in|of) [\w ]{0,20}[/\w.-]+|"
             r"[\w./-]\.(conf|cfg|ini|config|ya?ml|toml)(\(\d+\)|:\d+\]?) ?:? [^\n]{0,40}"
             r"(unrecognized|unknown keyword|invalid|syntax)",
             VAL, 7.0, "syntax error in a data file, or a body too large"),
    TextRule(r"(syntax|parse) error[^\n]{0,200}\bin [\w./-]+\.(php|py|rb|js|mjs|ts|pl|pm|lua|java|go|rs|sh)\b"
             r"[^\n]{0,12}\bline \d+", PROG, 7.0, "syntax error in source code"),
    TextRule(r"encoded data was not valid|not valid for encoding|invalid utf-?8|not valid utf-?8|"
             r"decompression (failed|error)|(inflate|deflate|decode|decoding|decompress) (failed|error)",
             VAL, 4.0, "undecodable data"),
    TextRule(r"missing operand|extra operand|try '[\w.-]+ --help'|(?<!heap )\busage: ", VAL, 3.0, "usage error"),
    TextRule(r"unknown (shorthand )?flag: -|no such option: -|unrecognized arguments: -|unknown option:? ['\"`]?-",
             VAL, 6.0, "a command line the tool does not accept"),
    # a configuration section the reading program refuses: bad input
    TextRule(r"in section '[^'\n]+' \(file: |no closing quotation|issue parsing json|"
             r"parsing (yaml|json|toml) file [^\n]+: |file signature not found|"
             r"failed element-wise validator|\bfailure cases: ", VAL, 7.0, "a configuration or data set refused"),
    TextRule(r"(?m)^[\w./-]+\.(java|c|cc|cpp|h|go|rs|ts|js|mjs|py|kt|scala|cs|swift|rb):"
             r"\d+(:\d+)?: (error|fatal error):|"
             r"incompatible types|cannot be converted to|undefined: \w", PROG, 4.0, "compiler diagnostic"),
    TextRule(r"(?<!shasum: )(?<!sha1: )\b[0-9a-f]{40}\b|no note found", GIT, 2.0, "names a git object"),
    TextRule(r"/\.git/", GIT, 3.0, "a path inside a git directory"),
    TextRule(r"(operation|rebase|merge|am|cherry-pick|revert|bisect) (is )?not in progress|"
             r"(no such path|does not exist)[^\n]{0,80} in '?(head|[0-9a-f]{7,40})'?",
             GIT, 6.0, "git repository state"),
    TextRule(r"all attempts to connect|attempts to connect[^\n]{0,60} failed|"
             r"no (servers?|brokers?|nodes?|hosts?) (are |is )?available( for (connection|connecting))?",
             NET, 4.0, "connect attempts failed"),
    TextRule(r"unable to find the server|(server|host) not found", NET, 4.0, "host not found"),
    TextRule(r"frame header|frame ?type|argument [^\n]{0,20} too (large|small|big|long)", VAL, 3.5,
             "bad frame or argument"),
    TextRule(r"command (was )?not found|not found or (was )?not executable|is not executable", FS, 3.5,
             "command not found"),
    TextRule(r"unparseable|unparsable|not parseable|mismatched tag|not well-formed|no element found|"
             r"junk (after document|in string)", VAL, 4.0, "unparseable document"),
    TextRule(r"(queue|buffer|channel|mailbox) (is )?full|capacity reached", RES, 8.0, "bounded queue full"),
    TextRule(r"\blimit\b[^\n]{0,60}\b(is|has been|was) reached", RES, 6.0, "a configured limit was reached"),
    # configuration that names what does not exist: an ODBC data source, a key no schema declares, a substitution
    TextRule(r"data source name not found|no configuration setting found|"
             r"configuration (param|parameter|key|setting|option) ['\"]?[\w.-]+['\"]? (is )?not "
             r"(declared|defined|found|allowed|recogni[sz]ed)|"
             r"(cannot|could not|unable to) resolve (variable|substitution|placeholder)|"
             r"(not (found|defined|present)|does not exist) in (the )?(config|configuration|settings)\b|"
             r"(is not defined|is not valid|is invalid)[,;.] (use|expected|must be) one of\b|"
             r"\bcommand \"[^\"\n]+\" is not defined", VAL, 8.0,
             "configuration or a command line names something that does not exist"),
    # chat and messaging protocols' own result codes: Matrix's errcodes, IRC's join refusals, AMQP's vhost refusal
    TextRule(r"\bM_(UNKNOWN_TOKEN|MISSING_TOKEN|FORBIDDEN|USER_DEACTIVATED)\b|cannot join channel \(\+[bik]\)|"
             r"\bnot_allowed - (vhost|access to vhost)\b|"
             r"\b(account|user) (is |has been )?(deactivated|disabled|suspended)\b", AUTH, 9.0,
             "a protocol refused who the client is"),
    TextRule(r"\bM_(LIMIT_EXCEEDED|RESOURCE_LIMIT_EXCEEDED)\b|cannot join channel \(\+l\)|"
             r"running out of (resource|disk|memory|space)|\bout_of_(disk|memory)\b|requires too much memory",
             RES, 10.0, "a server or decoder stated the capacity it ran out of"),
    TextRule(r"\bM_(INVALID_PARAM|BAD_JSON|NOT_JSON|INVALID_USERNAME)\b|\berroneo?us nickname\b|"
             r"\bnot (a )?legal\b|cannot open (the )?file as (an? )?\[?[\w-]*\]? ?archive|\bis not archive\b|"
             r"\bunknown (instruction|directive)\b|\binequivalent arg\b|\bbad message\b|misformatted domain name",
             VAL, 8.0, "a protocol, archiver or file format refused the input's form"),
    # round 17: privileges a database tool requires, keys a token verifier cannot find, DNS resolvers' own words,
    # a peer hanging up mid-read, capacity stated in a tool's words, paths a glob found nothing at, protocol misuse
    TextRule(r"\bmust be (a )?superuser\b|\bmust be (the )?owner of\b|superuser privileges?\b|"
             r"\bno (applicable|matching|suitable) key (found|in)\b", AUTH, 9.0, "privileges or keys refused"),
    TextRule(r"domain name not found|could not contact dns servers?|end of file while reading data", NET, 6.0,
             "a resolver or peer failed"),
    TextRule(r"\bslow consumer\b|not enough (free )?(disk )?space|failed to get \"?\w+\"? lock|"
             r"is another process using", RES, 8.0, "capacity or a lock, in a tool's words"),
    TextRule(r"\bmatches no files\b", FS, 6.0, "a path pattern found nothing"),
    # round 18: build toolchains and servers in their own words
    TextRule(r"unable to find library -l|cannot find -l[\w.-]|package requirements \([^)\n]*\) were not met|"
             r"\bno package '[^'\n]+' found|\bdependency \"[^\"\n]+\" not found", FS, 8.0,
             "a library or package the build needs is not installed"),
    TextRule(r"\bunknown target '|\bunknown argument:? ['\"`]?-", VAL, 8.0, "a command line names what does not exist"),
    TextRule(r"\bduplicate symbol:|\bmultiple definition of\b|invalid (read|write) of size \d+|"
             r"definitely lost: [1-9]|conditional jump or move depends on uninitiali[sz]ed|invalid free\(\)|"
             r"mismatched free\(\)", PROG, 9.0, "the linker or a memory checker found a defect"),
    TextRule(r"\bstd::bad_alloc\b|larger than (the )?(file ?system|disk|device)|"
             r"(can'?t|cannot|could not|unable to) bind( to)?\b", RES, 8.0, "memory, room or a port ran out"),
    TextRule(r"dropped due to acl|denied by acl", AUTH, 8.0, "an access list refused the client"),
    TextRule(r"\bcannot be sent (during|in|before|after)\b|\billegal arguments?: ", PROG, 9.0,
             "a protocol or library used in the wrong order or with wrong arguments"),
    # defects a runtime, library or language names in its own words (R, Groovy, Clojure, PromQL, Go, JVM libraries)
    TextRule(r"non-numeric argument to (binary|mathematical) (operator|function)|\$ operator is invalid|"
             r"\bunused arguments? \(|c stack usage [^\n]{0,40}too close to the limit|could not find function \"|"
             r"no such property: \w+ for class|no signature of method|wrong number of args \(\d+\) passed to|"
             r"could not locate [\w/.$-]+[^\n]{0,120} on classpath|"
             r"could not parse expression: \d+:\d+: parse error|"
             r"[\w./-]\.(cs|vb|fs|ts|tsx|java|kt|cpp|c|h)\(\d+,\d+\): error [a-z]*\d+|cast is not valid|"
             r"catalog error|table with name [^\n]{1,80} does not exist|"
             r"all goroutines are asleep|concurrent map (writes|read and map write|iteration)|"
             r"no value specified for parameter|no serializer found for class|can't construct a java object|"
             r"no (delegate- or property-based )?creators?\b|failed making field [^\n]{1,120} accessible|"
             r"schema is invalid|is not open: readystate|xpath (error|evaluation failure)|"
             r"target host is not specified", PROG, 9.0, "a defect named in the runtime's or library's own words"),
    TextRule(r"addresssanitizer|leaksanitizer|undefinedbehaviorsanitizer|threadsanitizer|floating point exception|"
             r"no match of right hand side value: (?!\{:?error)|no (function|case) clause matching|\bbadarith\b|"
             r"bad argument in arithmetic|\bbad key: |not present in map|"
             r"\*\*\* argument \d+: not an? (atom|list|tuple|map|binary|pid|function|fun|reference|boolean)\b|"
             r"unknown column '[^'\n]+' in '", PROG, 8.0, "a defect the runtime reported"),
    # the code, or its entry point, cannot be imported: a defect, whatever usage or load words surround it
    TextRule(r"\bmodule ['\"`]?[\w./-]+['\"`]? (was )?not found|could not import module|failed to find attribute|"
             r"error loading asgi app|app failed to load", PROG, 12.0, "the code cannot be imported"),
    # the calling code used a connection it had closed, or handed logging a configuration naming no real class
    TextRule(r"no active connection|the connection is closed|connection (is )?already closed|"
             r"unable to configure (handler|formatter|filter|logger|root logger)", PROG, 6.0,
             "used after close, or misconfigured in code"),
    TextRule(r"after shutdown|cannot schedule new|event loop is closed|on closed file|"
             r"(cursor|executor|pool|session) (is |has been |was )?(already )?(closed|shut ?down)",
             PROG, 4.0, "used after close"),
    TextRule(r"(cannot|can't|could not|unable to|failed to) (open|access|read|stat|find|load|create|write)"
             r"( file| directory| jarfile| archive)?:? ['\"]?/[\w.-]", FS, 2.0, "a named local path failed"),
    TextRule(r"no enum constant|(invalid|unknown|not a valid) enum|non-(integer|numeric)|not a number|"
             r"is not acceptable|cannot identify", VAL, 3.0, "value outside what is accepted"),
    TextRule(r"parsing \"[^\"\n]*\": invalid syntax|strconv\.\w+: |curl: \(3\)", VAL, 5.0, "malformed number or URL"),
    TextRule(r"duplicate key|unique constraint|violates [^\n]{1,80} constraint|constraint failed|"
             r"duplicate entry|data too long|incorrect [\w ]{1,40} value|out of range value|"
             r"cannot be null|null value in column|foreign key constraint", VAL, 4.5, "constraint violated"),
    TextRule(r"database \"[^\"\n]{1,100}\" does not exist|unknown database|invalid catalog|no such database\b",
             VAL, 5.0, "unknown database"),
    # programming
    TextRule(r"division by (zero|0)|divide by zero|/ by zero|maximum recursion depth|maximum call stack|"
             r"stack depth limit|cannot assign to field|can't set attribute|has no setter|read-only attribute|"
             r"stack ?overflow|nil pointer|null pointer|invalid memory address|segmentation fault|nil map|"
             r"index out of range|out of bounds|slice bounds|cannot read propert(y|ies) of|is not a function|"
             r"is not defined|is not iterable|not callable|not subscriptable|unhashable type|has no attribute|"
             r"takes \d+ positional|unexpected keyword argument|missing \d+ required|can only concatenate|"
             r"unsupported operand|interface conversion|cannot find module|no module named|cannot import name|"
             r"cannot find symbol|unbound variable|bad substitution|syntax error|invalid syntax|"
             r"unexpected token|looking for matching|changed size during iteration|\bWRONGTYPE\b|"
             r"wrong kind of value|unknown command|no such (table|column|function)|"
             r"(relation|column|function|table) \"?[\w.]+\"? does not exist|table [^\n]{1,80} doesn't exist|"
             r"unknown column|error in your sql syntax|not an integer or out of range|panic: runtime error|"
             r"goroutine \d+ \[|not associated with a value|not implemented|assertion|assert(ion)? failed|"
             r"expected values to be|requires? a function name|invalid array length|metaschema|"
             r"cannot be cast|concurrentmodification|unsupportedoperation|undefined method|"
             r"for nil:nilclass|call to undefined|with overflow|object reference not set|can't locate [^\n]* in @inc|"
             r"compilation (aborted|failed)|compilation errors?|requires explicit package name|missing separator|"
             r"error parsing regexp|unclosed group|unterminated (character set|subpattern)|nothing to repeat|"
             r"transaction is aborted|unexpected newline|wrong number of arguments|error compiling|"
             r"unexpected symbol|(relation|table|column|function|index|type) \"[^\"\n]+\" already exists|"
             r"release unlocked lock|cannot join current thread|threads can only be started once|"
             r"unmatched [(\[{\\]|unbalanced (parenthes|bracket|brace)|unterminated `?\w'? command|"
             r"not (json )?serializable|could not be (cloned|serialized|pickled)|can(not|'t) (be )?(serialize|pickle)|"
             r"unsupported type|not supported|\bis negative\b|not bound to a session|lazy load operation|"
             r"could not assemble any primary key|is not mapped|instance [^\n]{1,80} is not persisted|"
             r"\bclass \"?[\w\\\\.]+\"? not found",
             PROG, 3.5, "defect in the calling code"),
    # a runtime's own functions refusing an argument by its position (PHP's "Argument #1 ($keys) must ..."), a
    # function naming the type it expects, a converter refusing the Python class it was handed
    TextRule(r"argument #\d+ \(\$\w+\)|[\w$]\(\) expects (an? |parameter \d)|\bobject of (type )?<class '",
             PROG, 8.0, "a built-in function called wrongly"),
    TextRule(r"unknown format code|invalid format (spec|specifier|string)|"
             r"not enough arguments for format|unsupported format character|"
             r"(required )?argument( \d+| '\w+')? (is not|must be) an? \w+", PROG, 7.0,
             "wrong call of a library function"),
    # builtins misused by the calling code raise ValueError too: the message shape, not the type, tells a defect
    # from bad input (`int("ff", 37)`, `list.remove(x)`, `"a".index("b")`, unpacking a short sequence)
    TextRule(r"\bnot in (list|tuple|deque)\b|substring not found|dictionary update sequence element|"
             r"is not in the subpath of|(too many|not enough) values to unpack|base must be >= ?2|"
             r"generator already executing|arguments may not be used with|"
             r"(^|\n)(re|sre_constants)\.error: |min repeat greater than max|"
             r"bad escape \\?\w|multiple repeat|look-behind requires fixed-width",
             PROG, 12.0, "a builtin misused by the calling code"),
    TextRule(r"cannot resolve keyword [^\n]{1,80} into field|cannot call this from an async context|"
             r"use a thread or sync_to_async|(?<!\w)cmake error at [\w./-]*cmakelists\.txt:\d+",
             PROG, 8.0, "an ORM query or build script the code got wrong"),
    TextRule(r"does not appear to contain [\w./-]+\.(txt|json|toml|ya?ml|xml|cfg|ini)\b", FS, 5.0,
             "an expected file is missing"),
    TextRule(r"error\[e\d{4}\]|(^|\n) *--> [\w./-]+\.rs:\d+:\d+|no suitable driver( found)?\b", PROG, 8.0,
             "compiler diagnostic or missing driver"),
    TextRule(r"\binvalid_auth\b|\bnot_authed\b|\btoken_revoked\b|\binvalid_api_key\b|\bmissing_scope\b|"
             r"\baccount_inactive\b", AUTH, 6.0, "API error code: credentials refused"),
    TextRule(r"\bis sealed\b|\bvault is sealed|\bsealed vault", SVC, 5.0, "the server is sealed"),
    TextRule(r"requires a buffer of \d+ bytes|while reading from [^\n]{1,200}\[line +\d+\]", VAL, 5.0,
             "bad bytes or lines in the input"),
    # S3-style throttling arrives as a 503 whose body names the cause
    TextRule(r"reduce your request rate|\bslowdown\b|request rate (is )?too high", RES, 7.0,
             "throttled by the service"),
    TextRule(r"\b(endpoint|server|service|api|registry|resource) requires? (auth|authentication|credentials|login|"
             r"a (valid )?token)\b", AUTH, 5.0, "credentials required"),
    TextRule(r"object too large for cache|\bitem (is )?too (large|big)\b|"
             r"(maximum|max)[ _]payload([ _]size)?[ _](exceeded|reached)|payload (is )?too (large|big)|"
             r"\b(job|entry|record|value|document)[ _](is )?too[ _](large|big)\b", VAL, 5.0,
             "message larger than the server accepts"),
    TextRule(r"could not be broadcast|shape mismatch|mismatched shapes|dimension mismatch|"
             r"shapes? \(\d[^\n]{0,30}\) (and )?\(\d|incompatible (shapes|dimensions)|\bshape=\(|"
             r"expected (a )?square matri|"
             r"(matrices|arrays|vectors) (are|have) (of )?different (sizes|shapes|lengths)|cannot find dimension|"
             r"same number of dimensions|number of dimensions (does not|doesn't|must) match",
             PROG, 7.0, "array shapes do not fit"),
    # mail servers answer with SMTP reply codes (RFC 5321) and enhanced status codes (RFC 3463): the code names the
    # cause whatever the transcript around it says (a client's own "connection closed" trailer, its AUTH exchange)
    TextRule(r"(?m)(^|<\*\* |server (message|said|replied|response):? |\(|code )(452|552)\b[ ,-]|"
             r"\b[45]\d\d[ -][45]\.(2\.2|2\.3|3\.1|3\.4)\b|insufficient system storage|too much mail data|"
             r"exceeded storage allocation", RES, 10.0, "the mail server ran out of room or refused the size"),
    TextRule(r"(?m)(^|<\*\* |server (message|said|replied|response):? |\(|code )(421|450|451)\b[ ,-]"
             r"(?![^\n]{0,60}(too many|limit|exceeded))|"
             r"\b4\d\d[ -]4\.3\.[0235]\b|temporary local problem|local error in processing", SVC, 10.0,
             "the mail server failed for now"),
    TextRule(r"(?m)(^|<\*\* |server (message|said|replied|response):? |\(|code )(500|501|553|555)\b[ ,-]|"
             r"\b5\d\d[ -]5\.(1\.[378]|5\.[24])\b", VAL, 10.0, "the mail server refused the syntax of a command"),
    TextRule(r"\b[45]\d\d(, b?['\"]|[ -])[45]\.7\.\d{1,3}\b|credentials (are )?invalid",
             AUTH, 8.0, "the mail server refused on security grounds"),
    # IMAP response codes (RFC 5530) name the cause in brackets, before any wording
    TextRule(r"\[(unavailable|serverbug)\]", SVC, 12.0, "the IMAP server failed for now"),
    TextRule(r"\[(authenticationfailed|authorizationfailed|expired|privacyrequired|contactadmin|noperm)\]", AUTH,
             12.0, "the IMAP server refused the credentials"),
    TextRule(r"\[(overquota|limit|inuse)\]", RES, 12.0, "the IMAP server ran out of a resource"),
    TextRule(r"\[clientbug\]|\b(illegal|not allowed|not permitted) in (the )?(current )?state\b|"
             r"invalid input [\w.]+ in state \w+|"
             r"only allowed in states?\b",
             PROG, 9.0, "a protocol command sent in the wrong state"),
    # runtimes and query languages naming a defect in their own words (OCaml, Nim, Haskell, Tcl, Racket, gfortran,
    # Ada, Free Pascal, Octave, GraphQL, JSON-RPC)
    TextRule(r"\bexception (not_found|invalid_argument|match_failure|assert_failure|division_by_zero|stack_overflow|"
             r"undefined_recursive_module)\b|\bexception failure\(\"(nth|hd|tl|list\.\w+|array\.\w+)\"\)|"
             r"\bsigsegv\b|illegal storage access|attempt to read from nil|"
             r"[\w./-]\.(nim|pas|pp|d)\(\d+, ?\d+\) (error|fatal)\b|"
             r"cannot query field ['\"]\w+['\"] on type|unknown argument ['\"]\w+['\"] on field|"
             r"\bmethod not found\b|missing a required argument|"
             r"\bprelude\.\w+: empty list|non-exhaustive patterns|irrefutable pattern failed|"
             r"invalid command name \"|: contract violation\b|fortran runtime error: (index|array bound|"
             r"dimension|allocat\w* (array|already))|"
             r"\braised (constraint_error|program_error|tasking_error)\b(?! : bad input)|(?<!or )\baccess violation\b|"
             r"parse error near line \d+ of file [\w./-]+\.(m|py|rb|pl|lua|r|jl|sh)\b|"
             # Common Lisp conditions, Perl's run-time reference errors, C++ bindings refusing Python arguments
             r"\bunhandled ([\w-]+:)?(type-error|undefined-function|unbound-variable|unbound-slot|division-by-zero|"
             r"program-error)\b|control stack exhausted|"
             r"can't call method \"?\w+\"? on (an undefined value|unblessed reference)|"
             r"\bnot an? (hash|array|code|scalar|glob) reference\b|"
             r"can't use (string|an undefined value)[^\n]{0,80} as an? (hash|array|scalar|symbol|subroutine) ref|"
             r"undefined subroutine &|overload resolution failed|incompatible function arguments|"
             # Raku's type checks, and a shell script that does not parse
             r"type check failed in (binding|assignment)|"
             r"[\w./-]\.(sh|bash|zsh|ksh):(line )?\d+: (parse|syntax) error", PROG, 9.0,
             "a defect named in a runtime's or query language's own words"),
    TextRule(r"invalid (user|group|login|account|package|repository|image|bucket|queue|topic|host) ?name\b"
             r"(?![-/ ]*(or |and )?pass)", VAL, 5.0,
             "a name in the wrong format"),
    # gfortran's list and namelist reads refuse the data file, not the code
    TextRule(r"fortran runtime error: (end of file|bad (integer|real|value|logical|complex|repeat count)|"
             r"cannot match namelist|wrong type|comma after)", VAL, 8.0, "a data file the program reads is malformed"),
    # a path the tool was given is missing or not writable (click's and argparse's path checks, bc)
    TextRule(r"\b(path|file|directory) ['\"][^'\"\n]{1,300}['\"] (does not exist(?! in)|is not a file|is a directory|"
             r"is not (readable|writable|write-able))|\bnot (write-?able|writeable|writable)\b|"
             r"\bfile [\w./-]+ is unavailable|cannot find primary config", FS, 9.0,
             "a path the tool was given is missing or not writable"),
    TextRule(r"address already in use|\bEADDRINUSE\b|only one usage of each socket address", RES, 6.0,
             "the address is taken"),
    # a source file that does not parse, or a type checker's diagnostic: a defect, whatever "parse" suggests
    TextRule(r"(cannot|can't|failed to|unable to) parse:? [\w./-]+\.(py|pyi|pyx|js|ts|rb|php|go|rs|java)\b|"
             r"(^|\n) *[\w./-]+\.(py|pyi|pyx|ts|tsx|js):\d+:\d+ - error: |"
             r"compileerror\)?:? [\w./-]+\.(pyx|pxd|py|ex|exs|erl|java|kt|scala|cs|go|rs|c|cc|cpp|ts|js)\b", PROG, 12.0,
             "a source file does not parse or type-check"),
    TextRule(r"\bfield [`'\"][\w.\[\]-]+[`'\"] (must|should) be\b|missing mandatory value|wrong value type for field",
             VAL, 6.0, "a configuration or data field is refused"),
    # load generators summarise statuses instead of printing errors: a share of 5xx answers is the service failing
    TextRule(r"\b[1-9]\d* 5xx\b|\[5\d\d\]\s+\d+ responses", SVC, 6.0, "a load tool counted 5xx answers"),
    TextRule(r"\[(401|403|407)\]\s+\d+ responses", AUTH, 6.0, "a load tool counted refused credentials"),
    TextRule(r"\[429\]\s+\d+ responses", RES, 6.0, "a load tool counted throttled requests"),
    # documents: a TeX, Graphviz, reStructuredText or PDF input that does not parse is bad input, not a defect
    TextRule(r"(?m)^! (undefined control sequence|missing [\w$ ]{1,20} inserted|file ended while scanning|"
             r"paragraph ended before|too many \}'s|extra \}|misplaced alignment|latex error: (?!file))|"
             r"^runaway argument\?|"
             r"[\w./-]\.(dot|gv|tex|rst|md|csv|json|ya?ml|toml|xml|ini|conf|cfg): syntax error|"
             r"trailer dictionary|xref table|can't find pdf header|\bfile is damaged\b|"
             r"error: /(syntaxerror|typecheck|rangecheck) in |unknown device: |"
             r"\bno item named [^\n]{1,200} in the archive", VAL, 12.0, "a document does not parse"),
    TextRule(r"(?m)^! i can't (find|write on) file|^! latex error: file [`'][^'\n]{1,200}' not found|"
             r"error: /(undefinedfilename|invalidfileaccess|ioerror) in |"
             r"(^|[\s'\"])/[\w./-]+: does not exist\b|\bno (such )?([\w-]+ )?file at ['\"/]", FS, 8.0,
             "a named file is missing or cannot be written"),
    # docutils' system messages: the document is refused, unless the message names a missing file (errno evidence)
    TextRule(r"[\w./-]\.(rst|txt|md):\d+: \((error|severe)/[34]\)", VAL, 5.0, "a document does not parse"),
    TextRule(r"has not been decrypted|\bnot decrypted\b|file is encrypted|is password[- ]protected", AUTH, 6.0,
             "an encrypted file needs its password"),
    TextRule(r"(database|write|transaction|version) conflict( error)?\b", RES, 5.0, "a concurrent write conflicted"),
    TextRule(r"not_found - no (exchange|queue)\b", PROG, 8.0, "the code names a broker entity that does not exist"),
    TextRule(r"\bdraining\b", SVC, 4.0, "the server is draining"),
    # CLIs built on cobra and similar frameworks refuse a command line in their own words
    TextRule(r"unknown command \"[^\"\n]+\" for \"|run '[\w .-]+ --help' for usage", VAL, 6.0,
             "a command line the tool does not accept"),
    # gRPC: the channel's own transport failures, and a method the server does not have
    TextRule(r"code = unavailable desc = connection error|transport: (authentication handshake failed|error while "
             r"dialing)|does not look like a tls handshake", NET, 7.0, "gRPC transport failure"),
    TextRule(r"code = unimplemented\b|statuscode\.unimplemented\b", PROG, 7.0, "the server has no such method"),
    # configuration checkers report file:line: problems of a configuration file (bad input, not code)
    TextRule(r"(?m)^[\w./-]+\.(conf|cfg|ini|config|ya?ml|toml|nft|rc|rules|zone|service|timer|socket)(:\d+){1,2}"
             r"(-\d+)?: [^\n]{0,40}(syntax error|missing|unknown|unexpected|invalid|not defined|expected)|"
             r"does not match the api schema|has an unknown property|invalid configuration object", VAL, 8.0,
             "a configuration file or object was refused"),
    # ...while a script a configuration loads (Lua in HAProxy, nginx) is code
    TextRule(r"error in lua file|lua runtime error", PROG, 10.0, "a script the configuration loads is wrong"),
    # front-end toolchains point at the source file that does not parse or import
    TextRule(r"module not found: error: can't resolve|can't resolve '[^'\n]+' in '|"
             r"(^|\n)[\w./-]+\.(js|jsx|mjs|cjs|ts|tsx|vue)\n\s*\d+:\d+\s+error\s+parsing error|"
             r"(^|\n)\s*[\w./-]+\.(scss|sass|less|css) \d+:\d+\s+root stylesheet|"
             r"\[error\] [^\n]+\n\s*[\w./-]+\.(js|jsx|ts|tsx|mjs|cjs|css):\d+:\d+:", PROG, 9.0,
             "a source file does not parse or resolve"),
    TextRule(r"cannot find module ['\"]/[^'\"\n]+['\"]|"
             r"no files matching (the pattern|[\w ]{0,20}) (were|was) found|"
             r"unable to load host key|no hostkeys available|permissions 0\d{3} for '[^'\n]+' are too open|"
             r"\bbad permissions\b", FS, 9.0, "a file the tool needs is missing or unsafe"),
    TextRule(r"sympify of expression '[^\n]*' failed", VAL, 9.0, "a formula from input does not parse"),
    TextRule(r"workers? died while running", RES, 6.0, "workers were killed while running the task"),
    TextRule(r"cannot contact any kdc|communication failure with (the )?server", NET, 7.0,
             "the server could not be reached"),
    TextRule(r"no identity matched|you are not permitted to use|\bis not in the sudoers\b", AUTH, 7.0,
             "no key or permission matched"),
    TextRule(r"\braised storage_error\b|\(status = 34\)", RES, 8.0, "the runtime ran out of room"),
    TextRule(r"\(status = 3[57]\)|present in the manifest but not on disk|"
             r"(could not|cannot|unable to) find any [\w ]{0,20}files?\b", FS, 7.0, "a file is missing or not allowed"),
    # proxies refusing by rule, accounts without a login, semaphores, shells' quoting
    TextRule(r"not allowed by ruleset|account is currently not available|\bunknown user: ", AUTH, 8.0,
             "refused by rule or for the account"),
    TextRule(r"semaphore timed out|timed out waiting for (a |the )?(semaphore|lock|slot)", RES, 7.0,
             "waited too long for a slot"),
    TextRule(r"unmatched (single|double) quote|raised constraint_error : bad input for", VAL, 8.0,
             "a quoting or number error in the input"),
    TextRule(r"because other objects depend on it", PROG, 6.0, "the code drops what others still use"),
)


_TEXT_RULES += tuple(
    TextRule(r"\b(" + "|".join(names) + r")\b", cat, 3.5, "errno name")
    for cat, names in _ERRNO_NAMES.items()
)


#: Rules over the whole text, stack frames included: where an error was raised can name its cause when the
#: message does not. A timeout raised inside a connection pool's own code is a wait for a free connection.
FRAME_RULES: tuple[TextRule, ...] = (
    TextRule(r"(?s)\bin [\w.]*\b(recv\w*|read|_recv_copy)\n.{0,600}resource temporarily unavailable", NET, 7.0,
             "a socket read timed out (EAGAIN from recv)"),
    TextRule(r"(?s)time(d )?out.{0,400}[/\\](pg-pool|generic-pool|[a-z]+[-_]pool)[/\\][\w./\\-]*\.(js|mjs|cjs|py)\b",
             RES, 8.0, "timed out inside a connection pool"),
)


class Compiled(NamedTuple):
    """Rule tables as compiled regexes (built once, on first use)."""

    text_rules: tuple[tuple[re.Pattern[str], TextRule], ...]
    type_name_rules: tuple[tuple[re.Pattern[str], Category, float], ...]
    status: re.Pattern[str]
    errno_in_text: re.Pattern[str]
    status_words: re.Pattern[str]
    sqlstate: re.Pattern[str]
    mysql_code: re.Pattern[str]
    frame_rules: tuple[tuple[re.Pattern[str], TextRule], ...]


_STATUS_WORDS = {
    "bad request": 400, "unauthorized": 401, "forbidden": 403, "too many requests": 429,
    "unprocessable entity": 422, "unprocessable content": 422, "internal server error": 500,
    "bad gateway": 502, "service unavailable": 503, "gateway timeout": 504, "gateway time-out": 504,
    "request timeout": 408, "proxy authentication required": 407, "payload too large": 413,
}


def _lower_pattern(pattern: str) -> str:
    """Lower-case a regex's literal letters, leaving escapes such as \\S or \\W alone."""
    return re.sub(r"\\.|[A-Z]", lambda m: m.group(0) if m.group(0).startswith("\\") else m.group(0).lower(), pattern)


@cache
def compiled() -> Compiled:
    """Compile every rule table once, on first use."""
    flags = re.IGNORECASE
    # text rules run on lower-cased text with lower-cased patterns: much faster than IGNORECASE
    text_rules = tuple((re.compile(_lower_pattern(rule.pattern)), rule) for rule in _TEXT_RULES)
    type_rules = tuple((re.compile(p, flags), cat, w) for p, cat, w in _TYPE_NAME_RULES)
    status = re.compile(
        r"\bHTTP(?:/\d(?:\.\d)?)?[ :]+(?:error |status |response |code )*([1-5]\d\d)\b"
        r"|\b([1-5]\d\d) (?:client|server) error\b"
        r"|(?:status(?:[ _]?code)?|response code|statusCode|returned error|status_code|http code)\W{0,3}([1-5]\d\d)\b"
        r"|'([1-5]\d\d) [A-Z][a-z]"
        r"|\b([1-5]\d\d),\s*message="
        r"|too many ([1-5]\d\d) error responses"
        r"|\b([45]\d\d) (?-i:[A-Z][a-z]+(?: [A-Z][a-z-]+)*)\b"
        r"|\b(?:failed|failure|error|errored|returned|responded|answered)(?: with)?(?: (?:status|code|http))?"
        r"\W{0,3}([45]\d\d)(?![\d.])"
        r"|\bcode E([45]\d\d)\b|\bcode ([45]\d\d) - "
        r"|\bhttp resp(?:onse)? ([1-5]\d\d)\b"
        r"|\b(?:error|status|code)=([45]\d\d)\b"
        r"|error\(([45]\d\d),"
        r"|\(([45]\d\d)\)\s*reason"
        r"|\b(?:returned|response|status)\s*\(([45]\d\d)\)"
        r"|\b(?:tunnel|proxy)[^\n]{0,30}\bresponse ([45]\d\d)\b"
        r"|\b([45]\d\d) (?:bad request|unauthorized|forbidden|not found|too many requests|internal server error|"
        r"bad gateway|service unavailable|gateway time-?out|unprocessable|conflict|payload too large|"
        r"request timeout|method not allowed|proxy authentication required)\b",
        flags,
    )
    errno_in_text = re.compile(r"\[Errno (-?\d+)\]|\berrno[:= ]+(-?\d+)|Error (-?\d+) connecting|\(os error (\d+)\)|"
                               r"\bOs \{ code: (\d+),")
    status_words = re.compile("|".join(re.escape(w) for w in _STATUS_WORDS), flags)
    # "SQLSTATE 53400", or the error-fields dict some drivers print ({'C': '53400', ...}, pg8000)
    sqlstate = re.compile(r"\bSQLSTATE[\[ =:]+([0-9A-Z]{5})\b|'C': '([0-9A-Z]{5})'")
    # "ERROR 1045 (28000): ..." (mysql client), "(1045, 'Access denied ...')" (Python drivers), "[2002]" (PDO)
    mysql_code = re.compile(r"\bERROR ([12]\d{3}) \(\w{5}\)|^\w[\w.]*: \(([12]\d{3}), ['\"]|\] \[([12]\d{3})\] |"
                            r"SQLSTATE\[\w{5}\]: [^:\n]{1,60}: ([12]\d{3}) ",
                            re.MULTILINE)
    frame_rules = tuple((re.compile(_lower_pattern(rule.pattern)), rule) for rule in FRAME_RULES)
    return Compiled(text_rules, type_rules, status, errno_in_text, status_words, sqlstate, mysql_code, frame_rules)


def status_of_words(text: str) -> int | None:
    """A status code from its reason phrase alone ("Service Unavailable" -> 503)."""
    return _STATUS_WORDS.get(text.lower())


def type_name_evidence(name: str, qualified: str = "") -> list[Evidence]:
    """Evidence from one exception type name (bare like `ConnectError`, or dotted `httpx.ConnectError`)."""
    bare = name.rsplit(".", 1)[-1].rsplit("$", 1)[-1]
    exact = EXACT_TYPES.get(qualified) if qualified else None
    if exact is not None:
        return [exact]
    exact = EXACT_TYPES.get(bare)
    if exact is not None and not (bare == "PermissionError" and qualified and "." in qualified
                                  and not qualified.startswith("builtins.")):
        if bare in ("ConnectionError", "TimeoutError", "PermissionError", "ValueError") and qualified and \
                not qualified.startswith("builtins."):
            # a library's own ConnectionError & co. mean the same, only a little less surely
            return [Evidence(exact.category, 3.0, bare)]
        return [exact]
    out: list[Evidence] = []
    for pattern, cat, weight in compiled().type_name_rules:
        if pattern.search(bare):
            out.append(Evidence(cat, weight, bare))
    return out
