

def test_a_glued_id_that_drew_no_letter_masks_like_one_that_did() -> None:
    """A random hex id is all digits about 1 time in 270 (12 characters): it must still group with its family."""
    from recoup.errors.fingerprint import normalise

    assert normalise("no such table: orders_717136671036") == normalise("no such table: orders_677fdc52bc30")
    assert normalise("took 1234567 ms") == "took <n> ms"  # a free-standing number stays a number
