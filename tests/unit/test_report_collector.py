"""The cycle collector is paused while reports are built, and only while they are."""

from __future__ import annotations

import gc
import threading

from imvo_workflow.reports.collector import collector_paused


def test_paused_inside_and_resumed_after() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_overlapping_reports_resume_it_when_the_last_one_ends() -> None:
    first_in, second_done = threading.Event(), threading.Event()
    seen: list[bool] = []

    def second() -> None:
        first_in.wait()
        with collector_paused():
            pass
        seen.append(gc.isenabled())  # the first report is still running
        second_done.set()

    worker = threading.Thread(target=second)
    worker.start()
    with collector_paused():
        first_in.set()
        second_done.wait()
        assert not gc.isenabled()
    worker.join()
    assert seen == [False]
    assert gc.isenabled()


def test_an_error_resumes_it_and_one_paused_before_stays_paused() -> None:
    try:
        with collector_paused():
            raise ValueError("a refused report")
    except ValueError:
        pass
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_what_the_pause_kept_joins_the_oldest_generation_unwalked() -> None:
    gc.unfreeze()  # a web app started earlier in this process froze its start-up objects
    kept: list[list[int]] = []
    with collector_paused():
        kept.extend([i] for i in range(10_000))
        young = gc.get_objects(generation=0)
        assert any(o is kept[0] for o in young)
        del young
    assert not any(o is kept[0] for o in gc.get_objects(generation=0))
    assert any(o is kept[0] for o in gc.get_objects(generation=2))
    assert gc.get_freeze_count() == 0


def test_a_cycle_made_while_paused_is_still_collected() -> None:
    class Node:
        other: object = None

    with collector_paused():
        a, b = Node(), Node()
        a.other, b.other = b, a
        ids = {id(a), id(b)}
        del a, b
    gc.collect()
    assert not any(id(o) in ids and isinstance(o, Node) for o in gc.get_objects())


def test_what_the_process_froze_stays_frozen() -> None:
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with collector_paused():
            pass
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
