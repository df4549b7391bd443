"""Several real processes ingesting into the same groups at once: counts exact, every id stored once."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

from sqlalchemy import text
from store_support import ingest_worker, init_worker

from recoup.store import Project, Store

WORKERS = 4
BATCHES = 15
BATCH = 40


def test_concurrent_ingest_from_several_processes_counts_exactly(store: Store, project: Project, db_url: str) -> None:
    context = multiprocessing.get_context("spawn")  # fresh interpreters: no engine or pool shared by fork
    barrier = context.Barrier(WORKERS)
    with ProcessPoolExecutor(
        max_workers=WORKERS, mp_context=context, initializer=init_worker, initargs=(barrier,)
    ) as pool:
        futures = [pool.submit(ingest_worker, db_url, project.id, w, BATCHES, BATCH) for w in range(WORKERS)]
        results = [f.result(timeout=90) for f in futures]
    inserted = [r[0] for r in results]
    assert max(r[1] for r in results) < min(r[2] for r in results), "the workers did not overlap"
    shared = BATCHES * BATCH // 2
    own = WORKERS * BATCHES * BATCH // 2
    expected = shared + own
    assert sum(inserted) == expected  # each shared id was inserted by exactly one process
    assert store.count_events(project.id) == expected
    groups = store.list_groups(project.id)
    assert len(groups) == 5
    assert sum(g.count for g in groups) == expected
    with store.engine.connect() as conn:
        stored = dict(conn.execute(text("SELECT group_id, count(*) FROM events GROUP BY group_id")).all())
    assert {g.id: g.count for g in groups} == stored


def test_one_store_shared_by_threads(store: Store, project: Project) -> None:
    """The server calls one Store from many request threads."""
    from concurrent.futures import ThreadPoolExecutor

    from store_support import error

    def work(t: int) -> int:
        total = 0
        for b in range(10):
            batch = [error(f"t{t}-{b}-{i}", f"fp-{i % 3}") for i in range(20)]
            total += len(store.ingest_events(project.id, batch).inserted)
            store.list_groups(project.id)
        return total

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert sum(pool.map(work, range(8))) == 8 * 10 * 20
    assert sum(g.count for g in store.list_groups(project.id)) == 1600
