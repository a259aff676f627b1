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
