"""The shared serving helpers of wedwatch.web."""

from __future__ import annotations

import gc

from wedwatch import web


def test_gc_tuning_raises_the_young_threshold_and_freezes_start_up() -> None:
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        web.tune_gc()
        assert gc.get_threshold() == (web._GC_YOUNG_THRESHOLD, 10, 10)
        assert gc.get_freeze_count() > 0
        gc.set_threshold(50_000, 10, 10)  # a higher threshold set by the operator is kept
        web.tune_gc()
        assert gc.get_threshold()[0] == 50_000
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
