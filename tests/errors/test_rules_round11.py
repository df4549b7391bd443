"""Rules generalised from the misses of round 11 (blind batches 81-86, tests/corpus/README.md): each text is (a
shortened copy of) a real output from the corpus, and each case fails if the generalisation is undone."""

from __future__ import annotations

import pytest

from recoup.errors.classifier import classify
from recoup.errors.taxonomy import Category

EVENTLET_WARNING = (
    "An exception was thrown while monkey_patching for eventlet. to fix this error make sure you run "
    "eventlet.monkey_patch() before importing any other modules.\nTraceback (most recent call last):\n"
    '  File "/srv/.venv/lib/python3.11/site-packages/eventlet/patcher.py", line 606, in _upgrade_instances\n'
    "    upgrade_or_traverse(v)\n"
    "AttributeError: 'NoneType' object has no attribute 'upgrade'\n")

CASES: list[tuple[str, Category]] = [
    # documents that do not parse are bad input, whatever "syntax error" or "undefined" suggests
    ("! Undefined control sequence.\nl.3 Total due: \\totalamount\n!  ==> Fatal error occurred, no output PDF file "
     "produced!", Category.VALIDATION),
    ("! Missing $ inserted.\n<inserted text> \n                $\nl.3 The rate x_", Category.VALIDATION),
    ("Runaway argument?\n{Dear customer, \\par \\end {document} \n! File ended while scanning use of \\textbf .",
     Category.VALIDATION),
    ("Error: deps.dot: syntax error in line 4 near '->'", Category.VALIDATION),
    ("Syntax Error: Couldn't find trailer dictionary\nSyntax Error: Couldn't read xref table", Category.VALIDATION),
    ("WARNING: statement.pdf: can't find PDF header\nWARNING: statement.pdf: file is damaged\nqpdf: statement.pdf: "
     "unable to find trailer dictionary while recovering damaged file", Category.VALIDATION),
    ("Error: /syntaxerror in /----nostringval----\nGPL Ghostscript 10.00.0: Unrecoverable error, exit code 1",
     Category.VALIDATION),
    ("title.rst:1: (ERROR/3) Title overline & underline mismatch.\nExiting due to level-3 (ERROR) system message.",
     Category.VALIDATION),
    ("KeyError: \"There is no item named '[Content_Types].xml' in the archive\"", Category.VALIDATION),
    # ...but a document naming a file that is not there, or cannot be written, is a path problem
    ("include.rst:4: (ERROR/3) Problems with \"include\" directive path:\nInputError: [Errno 2] No such file or "
     "directory: 'parts/intro86.rst'.", Category.FILESYSTEM),
    ("! I can't find file `annual86.tex'.\n<*> annual86.tex\n! Emergency stop.", Category.FILESYSTEM),
    ("! I can't write on file `note.log'.\n! Emergency stop\nNo pages of output.", Category.FILESYSTEM),
    ("plyvel._plyvel.Error: b'Invalid argument: /tmp/leveldb85/index-2026: does not exist (create_if_missing is "
     "false)'", Category.FILESYSTEM),
    ("ZODB.POSException.POSKeyError: 'No blob file at /tmp/zodb85/blobs/0x00/0x01/0x040d58dff7068122.blob'",
     Category.FILESYSTEM),
    ("aioftp.errors.PathIOError", Category.FILESYSTEM),
    # stores and queues in their own words
    ("ZODB.POSException.ConflictError: database conflict error (oid 0x01, class __main__.Account)",
     Category.RESOURCE),
    ("greenstalk.DrainingError: []", Category.SERVICE),
    ("pystalk.client.BeanstalkError: JOB_TOO_BIG", Category.VALIDATION),
    ("closing channel: server channel error 404, message: NOT_FOUND - no exchange 'orders82.topic' in vhost 'b82'",
     Category.PROGRAMMING),
    ("ValueError: `chunk_shape` and `shape` need to have the same number of dimensions.", Category.PROGRAMMING),
    ("pypdf.errors.FileNotDecryptedError: File has not been decrypted", Category.AUTH),
    # the last traceback is the failure; a warning traceback printed on the way counts little
    (EVENTLET_WARNING + "Traceback (most recent call last):\n"
     '  File "/srv/.venv/lib/python3.11/site-packages/eventlet/support/greendns.py", line 578, in getaddrinfo\n'
     "    raise socket.gaierror(socket.EAI_NONAME, 'No address found')\n"
     "socket.gaierror: [Errno -2] No address found", Category.NETWORK),
    (EVENTLET_WARNING + "Traceback (most recent call last):\n"
     '  File "<string>", line 6, in write_snapshot\n'
     "OSError: [Errno 30] Read-only file system: '/tmp/ro83/snapshot-83.json'", Category.FILESYSTEM),
]


@pytest.mark.parametrize(("text", "category"), CASES)
def test_generalised_rule(text: str, category: Category) -> None:
    assert classify(text).category is category


def test_a_chained_traceback_still_counts_its_causes() -> None:
    """Chained tracebacks are one failure: the cause keeps its weight even when an unrelated traceback precedes it."""
    chained = ("Traceback (most recent call last):\n  File \"/srv/app.py\", line 3, in f\n"
               "ConnectionRefusedError: [Errno 111] Connection refused\n\nThe above exception was the direct cause of "
               "the following exception:\n\nTraceback (most recent call last):\n  File \"/srv/app.py\", line 9, in g\n"
               "app.FetchFailed: could not fetch the price list")
    assert classify(chained).category is Category.NETWORK
    assert classify(EVENTLET_WARNING + chained).category is Category.NETWORK


def test_a_parser_refusing_entities_is_bad_input_not_auth() -> None:
    assert classify("defusedxml.common.EntitiesForbidden: EntitiesForbidden(name='lol', system_id=None, "
                    "public_id=None)").category is Category.VALIDATION
    assert classify("defusedxml.common.ExternalReferenceForbidden: ExternalReferenceForbidden("
                    "system_id='file:///etc/passwd', public_id=None)").category is Category.VALIDATION
