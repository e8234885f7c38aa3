"""The start-up heap is frozen out of the cyclic collector, full collections are spaced out, and pauses are measured."""

import gc

from shared.observability import heap


def _pauses_observed() -> float:
    return sum(
        sample.value
        for metric in heap.GC_PAUSE.collect()
        for sample in metric.samples
        if sample.name.endswith("_count")
    )


def test_freezing_takes_what_is_alive_out_of_later_collections():
    kept = [[n] for n in range(1000)]  # container objects: what the collector tracks
    try:
        heap.freeze_startup_heap()
        assert gc.get_freeze_count() >= len(kept)
    finally:
        gc.unfreeze()


def test_each_collection_is_timed_once_watched():
    heap.watch_collections()
    heap.watch_collections()  # idempotent: one callback, one observation per collection
    assert gc.callbacks.count(heap._time_collections) == 1
    before = _pauses_observed()
    gc.collect()
    assert _pauses_observed() == before + 1


def test_full_collections_wait_for_a_hundred_generation_one_collections_not_ten():
    default = gc.get_threshold()
    try:
        heap.relax_full_collections()
        assert gc.get_threshold() == (700, 10, 100)
    finally:
        gc.set_threshold(*default)
