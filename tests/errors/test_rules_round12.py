"""Rules generalised from the misses of round 12 (blind batches 87-92, tests/corpus/README.md): each text is (a
shortened copy of) a real output from the corpus, and each case fails if the generalisation is undone."""

from __future__ import annotations

import pytest

from recoup.errors.classifier import classify
from recoup.errors.taxonomy import Category

CASES: list[tuple[str, Category]] = [
    ("ledger: acquire connection from pgxpool (acquired 2 of max 2, 2 waiting): context deadline exceeded",
     Category.RESOURCE),
    ("Error: unknown command \"deplyo\" for \"b87ctl\"\n\nDid you mean this?\n\tdeploy\n\nRun 'b87ctl --help' for "
     "usage.", Category.VALIDATION),
    ("health check failed: rpc error: code = Unavailable desc = connection error: desc = \"transport: authentication "
     "handshake failed: tls: first record does not look like a TLS handshake\"", Category.NETWORK),
    ("could not get balance: rpc error: code = Unimplemented desc = unknown service ledger.v1.Ledger",
     Category.PROGRAMMING),
    # configuration checkers: a configuration file's line is bad input; a script it loads is code
    ("/tmp/b/bind/syntax.conf:4: missing ';' before '}'", Category.VALIDATION),
    ("/tmp/b/nft/syntax.nft:4:25-30: Error: syntax error, unexpected accept, expecting comma or '}'",
     Category.VALIDATION),
    ("/tmp/b/monit/syntax.rc:5: syntax error 'cyles'", Category.VALIDATION),
    ("[ALERT]    (24006) : config : parsing [/tmp/b/luasyntax.cfg:9] : error in Lua file '/tmp/b/tag88.lua': "
     "/tmp/b/tag88.lua:4: ')' expected (to close '(' at line 1) near <eof>\n[ALERT]    (24006) : config : Error(s) "
     "found in configuration file : /tmp/b/luasyntax.cfg", Category.PROGRAMMING),
    ("Unable to load host key: /tmp/b/ssh/keys/ssh_host_ed25519_key\nsshd: no hostkeys available -- exiting.",
     Category.FILESYSTEM),
    ("Permissions 0644 for '/tmp/b/ssh/id_shared' are too open.\nIt is required that your private key files are NOT "
     "accessible by others.\nLoad key \"/tmp/b/ssh/id_shared\": bad permissions", Category.FILESYSTEM),
    ("dump zone to /tmp/b/full88/example88.test.db...dumping to stream: flush: disc full", Category.RESOURCE),
    ("sudo: you are not permitted to use the -D option with /usr/bin/true", Category.AUTH),
    ("ValueError: stdout and stderr arguments may not be used with capture_output.", Category.PROGRAMMING),
    # front-end toolchains
    ("ERROR in ./src/unresolved.js 1:0-47\nModule not found: Error: Can't resolve './utils/money.js' in '/tmp/b/src'",
     Category.PROGRAMMING),
    ("[webpack-cli] Failed to load './webpack.prod.config.js' config\n  Error [ERR_MODULE_NOT_FOUND]: Cannot find "
     "module '/tmp/b/webpack/webpack.prod.config.js' imported from /srv/node_modules/webpack-cli/lib/webpack-cli.js",
     Category.FILESYSTEM),
    ("[webpack-cli] Invalid configuration object. Webpack has been initialized using a configuration object that "
     "does not match the API schema.\n - configuration.output has an unknown property 'filname'.",
     Category.VALIDATION),
    ("\u2718 [ERROR] Expected \")\" but found end of file\n\n    src/broken.js:7:0:\n      7 \u2502 \n\n1 error",
     Category.PROGRAMMING),
    ("/tmp/b/eslint/src/broken.js\n  7:1  error  Parsing error: Unexpected token\n\n\u2716 1 problem (1 error, 0 "
     "warnings)", Category.PROGRAMMING),
    ("Error: expected end of rule.\n  \u2577\n6 \u2502 }\n  \u2502  ^\n  \u2575\n  broken.scss 6:2  root stylesheet",
     Category.PROGRAMMING),
    ("CssSyntaxError: /tmp/b/postcss/syntax/broken.css:3:3: Unclosed block", Category.PROGRAMMING),
    ("[error] No files matching the pattern were found: \"src/checkout.js\".", Category.FILESYSTEM),
    # data, identity and clusters
    ("sympy.core.sympify.SympifyError: Sympify of expression 'could not parse '2*x +* 3'' failed, because of "
     "exception being raised:\nSyntaxError: invalid syntax (<string>, line 1)", Category.VALIDATION),
    ("distributed.scheduler.KilledWorker: Attempted to run task 'hog-62691cf9' on 1 different workers, but all those "
     "workers died while running it.", Category.RESOURCE),
    ("kinit: Cannot contact any KDC for realm 'B91.TEST' while getting initial credentials", Category.NETWORK),
    ("kadmin: Communication failure with server while initializing kadmin interface", Category.NETWORK),
    ("age: error: no identity matched any of the recipients", Category.AUTH),
    # the tool's own name is no evidence of a refused login
    ("htpasswd: cannot open file /tmp/b/ht_ro/users for read/write access", Category.FILESYSTEM),
    ("Rack::QueryParser::ParameterTypeError: expected Array (got Rack::QueryParser::Params) for param `filter'",
     Category.VALIDATION),
]


@pytest.mark.parametrize(("text", "category"), CASES)
def test_generalised_rule(text: str, category: Category) -> None:
    assert classify(text).category is category
