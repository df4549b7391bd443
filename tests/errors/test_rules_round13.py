"""Rules generalised from the misses of round 13 (blind batches 93-98, tests/corpus/README.md): each text is (a
shortened copy of) a real output from the corpus, and each case fails if the generalisation is undone."""

from __future__ import annotations

import pytest

from recoup.errors.classifier import classify
from recoup.errors.taxonomy import Category

CASES: list[tuple[str, Category]] = [
    # runtimes' own reports: Ada, Free Pascal, GnuCOBOL file status codes, Octave's parser
    ("raised CONSTRAINT_ERROR : a_index.adb:8 index check failed", Category.PROGRAMMING),
    ("raised CONSTRAINT_ERROR : a_null.adb:8 access check failed", Category.PROGRAMMING),
    ("raised CONSTRAINT_ERROR : bad input for 'Value: \"12x\"", Category.VALIDATION),
    ("An unhandled exception occurred at $000000000041CF2B:\nEAccessViolation: Access violation\n  $000000000041CF2B",
     Category.PROGRAMMING),
    # ...but SQLSTATE 42000's "Syntax error or access violation" is whatever its MySQL code says
    ("PHP Fatal error:  Uncaught PDOException: SQLSTATE[42000]: Syntax error or access violation: 1142 UPDATE command "
     "denied to user 'b34_app'@'127.0.0.1' for table `test`.`b34_accounts`", Category.AUTH),
    ("libcob: c_ledger.cob:28: error: unknown file error (status = 34) for file LEDGER ('/tmp/full/ledger.dat') on "
     "WRITE", Category.RESOURCE),
    ("error: parse error near line 7 of file /tmp/octave93/parse_error.m\n\n  syntax error\n\n>>> endfor",
     Category.PROGRAMMING),
    # proxies, mail and protocol state
    ("pycurl.error: (7, 'CONNECT tunnel failed, response 407')", Category.AUTH),
    ("socks.GeneralProxyError: Socket error: 0x02: Connection not allowed by ruleset", Category.AUTH),
    ("WARNING - Connection error while submitting email to \"127.0.0.1\"\nDEBUG - Socket Exception: (535, "
     "b'5.7.8 Authentication credentials invalid')", Category.AUTH),
    ("h2.exceptions.ProtocolError: Invalid input StreamInputs.SEND_DATA in state 5", Category.PROGRAMMING),
    # job control and accounts
    ("parallel: Warning: Semaphore timed out. Exiting.", Category.RESOURCE),
    ("s6-envuidgid: fatal: unknown user: worker97", Category.AUTH),
    ("This account is currently not available.", Category.AUTH),
    ("xargs: unmatched single quote; by default quotes are special to xargs unless you use the -0 option",
     Category.VALIDATION),
    # migration and backup tools
    ("psql:revert/users.sql:3: ERROR:  cannot drop table users because other objects depend on it",
     Category.PROGRAMMING),
    ("pg_verifybackup: error: \"global/pg_control\" is present in the manifest but not on disk", Category.FILESYSTEM),
    ("pg_waldump: error: could not find any WAL file\npg_verifybackup: error: WAL parsing failed for timeline 1",
     Category.FILESYSTEM),
]


@pytest.mark.parametrize(("text", "category"), CASES)
def test_generalised_rule(text: str, category: Category) -> None:
    assert classify(text).category is category


def test_a_zipkin_error_is_no_zip_archive_error() -> None:
    """`Zip...Error` names a broken archive; Zipkin's errors say nothing of the kind (the model decides them)."""
    text = "py_zipkin.exception.ZipkinError: Root spans require a transport handler to be given"
    assert classify(text).category is not Category.VALIDATION
