"""Rules generalised from the misses of round 16 (blind batches 111-116, tests/corpus/README.md): each text is (a
shortened copy of) a real output from the corpus, and each case fails if the generalisation is undone."""

from __future__ import annotations

import pytest

from recoup.errors.classifier import classify
from recoup.errors.taxonomy import Category

_DBAL = ("PHP Fatal error:  Uncaught PDOException: SQLSTATE[08006] [7] connection to server at \"127.0.0.1\", port "
         "49349 failed: FATAL:  {reason} in /usr/share/php/Doctrine/DBAL/Driver/PDO/PgSQL/Driver.php:34\nNext "
         "Doctrine\\DBAL\\Driver\\PDO\\Exception: SQLSTATE[08006] [7] connection to server failed: FATAL:  {reason}\n"
         "Next Doctrine\\DBAL\\Exception\\ConnectionException: An exception occurred in the driver: "
         "SQLSTATE[08006] [7]")

CASES: list[tuple[str, Category]] = [
    # SQLSTATE class 08 says "connection exception"; the server's own FATAL reason says why, and counts once
    (_DBAL.format(reason='database "billing_prod" does not exist'), Category.VALIDATION),
    (_DBAL.format(reason="remaining connection slots are reserved for non-replication superuser connections"),
     Category.RESOURCE),
    (_DBAL.format(reason="the database system is not accepting connections"), Category.SERVICE),
    # protocols' own codes: Matrix errcodes, IRC join refusals, AMQP's vhost refusal, deactivated accounts
    ("ERROR matrix-notify: sync failed: SyncError: M_UNKNOWN_TOKEN Invalid access token passed.\n"
     "WARNING nio.responses: Error validating response: 'next_batch' is a required property", Category.AUTH),
    ("irc.client.IRCError: bannedfromchan from irc.ops.internal: #deploys Cannot join channel (+b) -- You are banned",
     Category.AUTH),
    ("irc.client.IRCError: erroneusnickname from irc.ops.internal: #ci-bot Erroneous nickname", Category.VALIDATION),
    ("PHP Fatal error:  Uncaught PhpAmqpLib\\Exception\\AMQPConnectionClosedException: NOT_ALLOWED - vhost "
     "payroll116 not found(10, 40)", Category.AUTH),
    ("ERROR:zulip-send:Account is deactivated", Category.AUTH),
    ("algoliasearch.http.exceptions.RequestException: Invalid Application-ID or API key", Category.AUTH),
    # servers and decoders stating the capacity they ran out of, whatever status they chose
    ("typesense.exceptions.ObjectUnprocessable: [Errno 422] Rejecting write: running out of resource type: "
     "OUT_OF_DISK", Category.RESOURCE),
    ("dump-billing.sql.zst : Decoding error (36) : Frame requires too much memory for decoding", Category.RESOURCE),
    # truncated or foreign input; TLS trust
    ("billing-partial.sql.zst : Read error (39) : premature end", Category.VALIDATION),
    ("Open ERROR: Cannot open the file as [7z] archive\n\nERRORS:\nIs not archive", Category.VALIDATION),
    ("ERROR    slixmpp.xmlstream.xmlstream CERT: Invalid certificate trust chain.", Category.NETWORK),
    # configuration and command lines naming what does not exist
    ("The given hostname does not exist in the config", Category.VALIDATION),
    ("PHP Fatal error:  Uncaught Psr\\Log\\InvalidArgumentException: Level \"verbose\" is not defined, use one of: "
     "100, 200, DEBUG, INFO", Category.VALIDATION),
    ("Command \"invoice:exprot\" is not defined.\n\n Do you want to run \"invoices:export\" instead?",
     Category.VALIDATION),
]


@pytest.mark.parametrize(("text", "category"), CASES)
def test_generalised_rule(text: str, category: Category) -> None:
    assert classify(text).category is category
