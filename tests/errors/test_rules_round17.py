"""Rules generalised from the misses of round 17 (blind batches 117-122, tests/corpus/README.md): each text is (a
shortened copy of) a real output from the corpus, and each case fails if the generalisation is undone."""

from __future__ import annotations

import pytest

from recoup.errors.classifier import classify
from recoup.errors.taxonomy import Category

CASES: list[tuple[str, Category]] = [
    # HTTParty's `Code 401 - body`
    ("/usr/share/rubygems-integration/all/gems/httparty-0.21.0/lib/httparty/response.rb:137:in `throw_exception': "
     "Code 401 - {\"detail\": \"token expired\"} (HTTParty::ResponseError)", Category.AUTH),
    # privileges a tool requires; a token verifier that finds no key
    ("ERROR: pg_repack failed with error: You must be a superuser to use pg_repack", Category.AUTH),
    ("auth middleware: rejected bearer token: ERR_JWKS_NO_MATCHING_KEY no applicable key found in the JSON Web Key "
     "Set", Category.AUTH),
    # resolvers and peers
    ("pycares.AresError: (4, 'Domain name not found')", Category.NETWORK),
    ("pycares.AresError: (11, 'Could not contact DNS servers')", Category.NETWORK),
    ("error: failed to connect to the hypervisor\nerror: End of file while reading data: Input/output error",
     Category.NETWORK),
    # capacity and locks in a tool's own words
    ("billing-worker 2026/11/29 23:02:08 nats async error on subscription \"billing.events\": nats: slow consumer, "
     "messages dropped", Category.RESOURCE),
    ("error: Failed to create vol pg-archive.qcow2\nerror: internal error: Not enough free space in pool for volume "
     "'pg-archive.qcow2'", Category.RESOURCE),
    ("qemu-img: Could not open '/srv/images/db-01.qcow2': Failed to get \"write\" lock\nIs another process using the "
     "image [/srv/images/db-01.qcow2]?", Category.RESOURCE),
    # input a protocol, builder or file format refused
    ("PRECONDITION_FAILED - inequivalent arg 'durable' for queue 'ledger.settlements' in vhost 'ledger-sync': "
     "received 'false' but current is 'true' (Bunny::PreconditionFailed)", Category.VALIDATION),
    ("Error: building at STEP \"COPYY \": Build error: Unknown instruction: \"COPYY\"", Category.VALIDATION),
    ("Failed to open files: Bad message", Category.VALIDATION),
    ("pycares.AresError: (8, 'Misformatted domain name')", Category.VALIDATION),
    # paths
    ("ValueError: \nuse_keys has been set to True, but specified key_file does not exist:\nkey_file: "
     "/home/netops/.ssh/id_ed25519_fleet", Category.FILESYSTEM),
    ("panic: html/template: pattern matches no files: `/srv/web/templates/*.tmpl`", Category.FILESYSTEM),
    # protocol misuse and wrong arguments
    ("wsproto.utilities.LocalProtocolError: Event TextMessage(data='{}') cannot be sent during the handshake",
     Category.PROGRAMMING),
    ("POST /login 500 Error: Illegal arguments: string, undefined", Category.PROGRAMMING),
]


@pytest.mark.parametrize(("text", "category"), CASES)
def test_generalised_rule(text: str, category: Category) -> None:
    assert classify(text).category is category
