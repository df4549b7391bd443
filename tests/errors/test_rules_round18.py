"""Rules generalised from the misses of round 18 (blind batches 123-128, tests/corpus/README.md): each text is (a
shortened copy of) a real output from the corpus, and each case fails if the generalisation is undone."""

from __future__ import annotations

import pytest

from recoup.errors.classifier import classify
from recoup.errors.taxonomy import Category

CASES: list[tuple[str, Category]] = [
    # libraries and packages a build needs that are not installed
    ("ld.lld: error: unable to find library -lprotobuf-edge\nclang: error: linker command failed with exit code 1",
     Category.FILESYSTEM),
    ("configure: error: Package requirements (libfirmware-sign >= 2.0) were not met:\nPackage 'libhsm-pkcs11', "
     "required by 'libfirmware-sign', not found", Category.FILESYSTEM),
    ("Run-time dependency libzmq-edge found: NO (tried pkgconfig and cmake)\nmeson.build:2:0: ERROR: Dependency "
     "\"libzmq-edge\" not found, tried pkgconfig and cmake", Category.FILESYSTEM),
    # command lines naming what does not exist
    ("ninja: error: unknown target 'instal', did you mean 'install'?", Category.VALIDATION),
    ("ld.lld: error: unknown argument '--gc-sectionz', did you mean '--gc-sections'", Category.VALIDATION),
    # defects the linker or a memory checker found ("total heap usage:" is no usage error)
    ("ld.lld: error: duplicate symbol: config_path\n>>> defined at config_a.c\n>>> defined at config_b.c",
     Category.PROGRAMMING),
    ("==4242== Invalid read of size 4\n==4242==    at 0x109186: main (ingest.c:12)\n==4242== HEAP SUMMARY:\n"
     "==4242==   total heap usage: 2 allocs, 1 frees, 1,064 bytes allocated", Category.PROGRAMMING),
    # memory, room or a port ran out; an access list refused
    ("terminate called after throwing an instance of 'std::bad_alloc'\n  what():  std::bad_alloc", Category.RESOURCE),
    ("Error: (-sfile) size \"256M\": larger than file system\n(-? gives usage)", Category.RESOURCE),
    ("Fatal error: can't bind to 127.0.0.1:40935: There may be another Privoxy or some other proxy running on port "
     "40935", Category.RESOURCE),
    ("Connect: Connection from 127.0.0.1 on 127.0.0.1:48487 (socket 4) dropped due to ACL", Category.AUTH),
]


@pytest.mark.parametrize(("text", "category"), CASES)
def test_generalised_rule(text: str, category: Category) -> None:
    assert classify(text).category is category
