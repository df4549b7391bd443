"""Rules generalised from the misses of blind batches 27-30 (tests/corpus/README.md): each text is (a shortened
copy of) a real output from the corpus, and each case fails if the generalisation is undone."""

from __future__ import annotations

import pytest

from recoup.errors.classifier import classify
from recoup.errors.taxonomy import Category

CASES: list[tuple[str, Category]] = [
    # builtins misused by the calling code raise ValueError: the message shape decides, not the type
    ("ValueError: int() base must be >= 2 and <= 36, or 0", Category.PROGRAMMING),
    ("ValueError: list.remove(x): x not in list", Category.PROGRAMMING),
    ("ValueError: substring not found", Category.PROGRAMMING),
    ("ValueError: dictionary update sequence element #1 has length 1; 2 is required", Category.PROGRAMMING),
    ("re.error: min repeat greater than max repeat at position 14", Category.PROGRAMMING),
    # ...while a stdlib parser's ValueError stays bad input
    ("ValueError: invalid literal for int() with base 10: 'abc'", Category.VALIDATION),
    ("struct.error: unpack requires a buffer of 6 bytes", Category.VALIDATION),
    ("configparser.DuplicateOptionError: While reading from '<string>' [line  3]: option 'port' in section "
     "'server' already exists", Category.VALIDATION),
    ("error: error loading config file \"/tmp/k/kubeconfig-bad\": yaml: line 6: did not find expected node content",
     Category.VALIDATION),
    # ORM and build-script misuse
    ("sqlalchemy.exc.ArgumentError: Mapper Mapper[AuditLog(audit_log)] could not assemble any primary key columns "
     "for mapped table 'audit_log'", Category.PROGRAMMING),
    ("sqlalchemy.orm.exc.DetachedInstanceError: Parent instance <Team at 0x7f> is not bound to a Session; lazy load "
     "operation of attribute 'members' cannot proceed", Category.PROGRAMMING),
    ("django.core.exceptions.FieldError: Cannot resolve keyword 'nmae' into field. Choices are: email, id, name",
     Category.PROGRAMMING),
    ("CMake Error at CMakeLists.txt:2:\n  Parse error.  Function missing ending \")\".  End of file reached.",
     Category.PROGRAMMING),
    ("error[E0308]: mismatched types\n --> src/main.rs:2:24\n  |\n2 |     let retries: u32 = \"3\";",
     Category.PROGRAMMING),
    ("Exception in thread \"main\" java.sql.SQLException: No suitable driver found for jdbc:postgresql://h/test",
     Category.PROGRAMMING),
    ("CMake Error: The source directory \"/tmp/c/empty\" does not appear to contain CMakeLists.txt.",
     Category.FILESYSTEM),
    # hosted-API bodies and SDK wording
    ("objstore.exceptions.ClientError: An error occurred (SlowDown) when calling the PutObject operation: Please "
     "reduce your request rate.", Category.RESOURCE),
    ("Error: Error refreshing state: HTTP remote state endpoint requires auth", Category.AUTH),
    ("slack_sdk.errors.SlackApiError: The request to the Slack API failed. (url: http://127.0.0.1:1/api/x)\n"
     "The server responded with: {'ok': False, 'error': 'invalid_auth'}", Category.AUTH),
    ("hvac.exceptions.VaultDown: Vault is sealed, on get http://127.0.0.1:1/v1/secret/data/ci", Category.SERVICE),
    ("sha256sum: WARNING: 1 computed checksum did NOT match", Category.VALIDATION),
    # a bare "loading" is not Redis's LOADING reply
    ("(error) LOADING Redis is loading the dataset in memory", Category.SERVICE),
]


@pytest.mark.parametrize(("text", "category"), CASES)
def test_generalised_rule(text: str, category: Category) -> None:
    assert classify(text).category is category


def test_a_timeout_raised_inside_a_pool_is_resource() -> None:
    """The message alone says timeout (network); the frame it was raised in says the pool had no free connection."""
    text = ("/srv/app/node_modules/pg-pool/index.js:45\n    Error.captureStackTrace(err)\n          ^\n\n"
            "Error: timeout exceeded when trying to connect\n    at /srv/app/node_modules/pg-pool/index.js:45:11\n"
            "    at async main (/srv/app/db.js:12:3)")
    assert classify(text).category is Category.RESOURCE
    alone = "Error: timeout exceeded when trying to connect\n    at async main (/srv/app/db.js:12:3)"
    assert classify(alone).category is not Category.RESOURCE
