"""Rules generalised from the misses of round 10 (blind batches 75-80, tests/corpus/README.md): each text is (a
shortened copy of) a real output from the corpus, and each case fails if the generalisation is undone."""

from __future__ import annotations

import pytest

from recoup.errors.classifier import classify
from recoup.errors.taxonomy import Category

CASES: list[tuple[str, Category]] = [
    # defects in a language's own words
    ("HeadEmpty: Prelude.head: empty list", Category.PROGRAMMING),
    ("invalid command name \"lapend\"\n    while executing\n\"lapend queue $job\"", Category.PROGRAMMING),
    ("*: contract violation\n  expected: number?\n  given: \"3\"", Category.PROGRAMMING),
    # gfortran's reads refuse the data file, not the code
    ("At line 7 of file /tmp/f/readeof.f90 (unit = 10, file = '/tmp/data/grid.txt')\nFortran runtime error: End of "
     "file\n\nError termination. Backtrace:", Category.VALIDATION),
    ("Fortran runtime error: Cannot match namelist object name timestep", Category.VALIDATION),
    # paths a tool was given: missing, unwritable, unavailable
    ("File /tmp/bc/rates-2026.bc is unavailable.", Category.FILESYSTEM),
    ("Usage: pip-compile [OPTIONS] [SRC_FILES]...\n\nError: Invalid value for '[SRC_FILES]...': Path "
     "'requirements/base.in' does not exist.", Category.FILESYSTEM),
    ("usage: virtualenv [--version] [-h]\n                  dest\nvirtualenv: error: argument dest: the destination . "
     "is not write-able at /tmp/ro80", Category.FILESYSTEM),
    ("hydra.errors.MissingConfigException: Cannot find primary config 'collector'. Check that it's in your config "
     "search path.", Category.FILESYSTEM),
    # ...but git's "path ... does not exist in 'HEAD'" is the repository's state
    ("fatal: path 'nope-blind25.txt' does not exist in 'HEAD'", Category.GIT),
    ("ERROR:    [Errno 98] error while attempting to bind on address ('127.0.0.1', 50919): address already in use",
     Category.RESOURCE),
    # source files that do not parse or type-check
    ("error: cannot parse: broken.py:2:4\n        return event['body']\n       ^\nParseError: bad input",
     Category.PROGRAMMING),
    ("/tmp/p80/code/types_c.py\n  /tmp/p80/code/types_c.py:4:26 - error: No parameter named \"timeout\" "
     "(reportCallIssue)\n1 error, 0 warnings, 0 informations", Category.PROGRAMMING),
    ("Cython.Compiler.Errors.CompileError: /tmp/p80/cy/agg80.pyx", Category.PROGRAMMING),
    # ...while a WebAssembly module that does not compile is bad bytes
    ("CompileError: WebAssembly.Module(): expected magic word 00 61 73 6d, found 6e 6f 74 20 @+0",
     Category.VALIDATION),
    # configuration and data fields refused
    ("dacite.exceptions.WrongTypeError: wrong value type for field \"timeout_s\" - should be \"float\" instead of "
     "value \"ten\" of type \"str\"", Category.VALIDATION),
    ("omegaconf.errors.MissingMandatoryValue: Missing mandatory value: exporter.endpoint", Category.VALIDATION),
    ("TypeError: Field `project.dependencies` must be an array", Category.VALIDATION),
    ("fastjsonschema.exceptions.JsonSchemaDefinitionException: Unknown type", Category.PROGRAMMING),
    ("EntityMetadataNotFoundError: No metadata for \"CreditNote\" was found.", Category.PROGRAMMING),
    ("JsonWebTokenError: invalid signature\n    at /srv/node_modules/jsonwebtoken/verify.js:171:19", Category.AUTH),
    # load generators count statuses
    ("requests: 2 total, 2 started, 2 done, 0 succeeded, 2 failed, 0 errored, 0 timeout\nstatus codes: 0 2xx, 0 3xx, "
     "0 4xx, 2 5xx", Category.SERVICE),
    ("Status code distribution:\n  [401]\t2 responses", Category.AUTH),
    ("Status code distribution:\n  [429]\t2 responses", Category.RESOURCE),
]


@pytest.mark.parametrize(("text", "category"), CASES)
def test_generalised_rule(text: str, category: Category) -> None:
    assert classify(text).category is category
