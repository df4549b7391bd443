"""Rules generalised from the misses of round 15 (blind batches 105-110, tests/corpus/README.md): each text is (a
shortened copy of) a real output from the corpus, and each case fails if the generalisation is undone."""

from __future__ import annotations

import pytest

from recoup.errors.classifier import classify
from recoup.errors.taxonomy import Category

CASES: list[tuple[str, Category]] = [
    # servers that forced clients off, or refuse writes after a fail-over
    ("Error: Connection closed: 320 (CONNECTION-FORCED) with message \"CONNECTION_FORCED - Node rabbit@mq-2 is "
     "shutting down\"", Category.SERVICE),
    ("Error: The MariaDB server is running with the --read-only option so it cannot execute this statement\n"
     "  code: 'ER_OPTION_PREVENTS_STATEMENT',", Category.SERVICE),
    # configured limits, and configuration naming what does not exist
    ("Error: Channel closed by server: 406 (PRECONDITION-FAILED) with message \"PRECONDITION_FAILED - cannot declare "
     "queue 'reports.monthly.render': queue limit in vhost 'reports-106' (0) is reached\"", Category.RESOURCE),
    ("psql: error: connection to server at \"127.0.0.1\", port 45225 failed: FATAL:  no such database: reporting",
     Category.VALIDATION),
    ("pyodbc.InterfaceError: ('IM002', '[IM002] [unixODBC][Driver Manager]Data source name not found and no default "
     "driver specified (0) (SQLDriverConnect)')", Category.VALIDATION),
    ("Error: configuration param 'db.pool_size' not declared in the schema", Category.VALIDATION),
    ("pyhocon.exceptions.ConfigSubstitutionException: Cannot resolve variable ${SEED_NODES} (line: 3, col: 24)",
     Category.VALIDATION),
    # defects: Raku's type checks, a shell script that does not parse, functions refusing the type they were handed
    ("Type check failed in binding to parameter '$cents'; expected Int but got Str (\"1999\")\n"
     "  in sub charge at /srv/ledger/app/raku/charge.raku line 1", Category.PROGRAMMING),
    ("/srv/ledger/app/zsh/ledgerctl.zsh:5: parse error near `\\n'", Category.PROGRAMMING),
    ("Error: cheerio.load() expects a string", Category.PROGRAMMING),
    ("tomlkit.exceptions.ConvertError: Unable to convert an object of <class 'object'> to a TOML item",
     Category.PROGRAMMING),
]


@pytest.mark.parametrize(("text", "category"), CASES)
def test_generalised_rule(text: str, category: Category) -> None:
    assert classify(text).category is category
