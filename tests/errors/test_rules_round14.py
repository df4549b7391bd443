"""Rules generalised from the misses of round 14 (blind batches 99-104, tests/corpus/README.md): each text is (a
shortened copy of) a real output from the corpus, and each case fails if the generalisation is undone."""

from __future__ import annotations

import pytest

from recoup.errors.classifier import classify
from recoup.errors.taxonomy import Category

CASES: list[tuple[str, Category]] = [
    # Common Lisp conditions in SBCL's words
    ("Unhandled TYPE-ERROR in thread #<SB-THREAD:THREAD \"main thread\" RUNNING {1001348003}>:\n  The value\n"
     "    \"2\"\n  is not of type\n    NUMBER", Category.PROGRAMMING),
    ("fatal error encountered in SBCL pid 12133 tid 12133:\nControl stack exhausted, fault: 0x7fdbb077fff8",
     Category.PROGRAMMING),
    ("Heap exhausted during allocation: 46759936 bytes available, 800000016 requested.", Category.RESOURCE),
    ("Unhandled SB-INT:SIMPLE-PARSE-ERROR in thread #<SB-THREAD:THREAD \"main thread\" RUNNING {1001348003}>:\n"
     "  junk in string \"12 pcs\"", Category.VALIDATION),
    # Perl's run-time reference errors, C++ bindings refusing Python arguments
    ("report failed: Not a HASH reference at trytiny-not-a-hash.pl line 7.", Category.PROGRAMMING),
    ("cv2.error: OpenCV(5.0.0) :-1: error: (-5:Bad argument) in function 'resize'\n> Overload resolution failed:\n"
     ">  - src is not a numpy array, neither a scalar", Category.PROGRAMMING),
    # ...but a library's defect met while the disk was full still reports the full disk
    ("Can't locate object method \"_throw\" via package \"self\" at /usr/share/perl5/Path/Tiny.pm line 622.\n"
     "Warning: unable to close filehandle $fh properly: No space left on device", Category.RESOURCE),
    # credentials refused in a provider's words; a pool timeout is the pool, whatever timeout types surround it
    ("ovh.exceptions.InvalidCredential: This credential is not valid", Category.AUTH),
    ("KnexTimeoutError: Knex: Timeout acquiring a connection. The pool is probably full.\n"
     "  cause: TimeoutError: operation timed out for an unknown reason", Category.RESOURCE),
    # data that is not what was expected, in British spelling or with a long description
    ("soundfile.LibsndfileError: Error opening '/srv/media/upload-7f3a.bin': Format not recognised.",
     Category.VALIDATION),
    ("StructError: At path: sku -- Expected a string with a length between `3` and `8` but received one with a "
     "length of `1`\n  branch: [ { sku: 'X', qty: 2.5 }, 'X' ],", Category.VALIDATION),
]


@pytest.mark.parametrize(("text", "category"), CASES)
def test_generalised_rule(text: str, category: Category) -> None:
    assert classify(text).category is category
