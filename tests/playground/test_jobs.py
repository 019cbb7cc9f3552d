"""Background jobs: a generator on its own thread, its progress, result, failure and cancelling."""
import threading

import pytest

from playground.training import worker as worker_module
from playground.training.jobs import JobRunner

WAIT = 5000


class Record:
    """What a runner said, in order."""

    def __init__(self, runner):
        self.events = []
        runner.progress.connect(lambda fraction, partial: self.events.append(("progress", fraction, partial)))
        runner.finished.connect(lambda result: self.events.append(("finished", result)))
        runner.failed.connect(lambda message: self.events.append(("failed", message)))
        runner.cancelled.connect(lambda: self.events.append(("cancelled",)))

    def kinds(self):
        return [event[0] for event in self.events]


@pytest.fixture
def runner():
    runner = JobRunner("test jobs", min_interval=0)
    yield runner
    assert runner.close()


class Gate:
    """Holds a job between two steps until the test opens it, and says when the job waits there."""

    def __init__(self):
        self.waiting, self.open = threading.Event(), threading.Event()

    def wait_for_job(self):
        assert self.waiting.wait(WAIT / 1000)


@pytest.fixture
def gate():
    """Opened at the end of the test whatever happened, so that a job held there lets its thread end."""
    gate = Gate()
    yield gate
    gate.open.set()


def gated(log, gate, steps=100, result="done"):
    """A job that yields, then waits at ``gate`` before going on: the test decides when it moves."""
    try:
        for i in range(steps):
            log.append(i)
            yield (i + 1) / steps
            gate.waiting.set()
            assert gate.open.wait(WAIT / 1000)
        return result
    finally:
        log.append("closed")


def test_progress_arrives_in_order_then_the_result(qtbot, runner):
    threads = []

    def job():
        threads.append(threading.get_ident())
        for i in range(1, 21):
            yield i / 20, list(range(i))  # the partial: every row so far
        return "result"

    record = Record(runner)
    with qtbot.waitSignal(runner.finished, timeout=WAIT):
        runner.start(job())
    assert record.kinds() == ["progress"] * 20 + ["finished"]
    assert [e[1] for e in record.events[:-1]] == [i / 20 for i in range(1, 21)]
    assert [e[2] for e in record.events[:-1]] == [list(range(i)) for i in range(1, 21)]
    assert record.events[-1] == ("finished", "result")
    assert threads and threads[0] != threading.get_ident()  # it ran on the runner's thread
    assert not runner.running


def test_progress_is_sent_at_most_every_min_interval(qtbot):
    runner = JobRunner("slow news", min_interval=3600)
    record = Record(runner)
    with qtbot.waitSignal(runner.finished, timeout=WAIT):
        runner.start(x / 50 for x in range(1, 51))
    assert record.kinds() == ["progress", "finished"]  # the first, then none for an hour
    assert runner.close()


def test_cancel_stops_the_job_at_its_next_yield(qtbot, runner, gate):
    log = []
    record = Record(runner)
    with qtbot.waitSignal(runner.progress, timeout=WAIT):
        runner.start(gated(log, gate))
    gate.wait_for_job()
    runner.cancel()  # while the job waits at its gate, between its first and second yield
    assert not runner.running
    with qtbot.waitSignal(runner.cancelled, timeout=WAIT):
        gate.open.set()
    assert log == [0, 1, "closed"]  # it went on to its next yield, stopped there, and was closed
    assert record.kinds() == ["progress", "cancelled"]


def test_a_job_cancelled_just_before_it_returns_counts_as_cancelled(qtbot, runner, gate):
    log = []
    record = Record(runner)
    with qtbot.waitSignal(runner.progress, timeout=WAIT):
        runner.start(gated(log, gate, steps=1))
    gate.wait_for_job()
    runner.cancel()
    with qtbot.waitSignal(runner.cancelled, timeout=WAIT):
        gate.open.set()  # the job returns without yielding again
    assert record.kinds() == ["progress", "cancelled"]


def test_an_exception_becomes_failed_in_one_line(qtbot, runner):
    def job():
        yield 0.5
        raise ValueError("the path spans\nfewer than two directions")

    record = Record(runner)
    with qtbot.waitSignal(runner.failed, timeout=WAIT):
        runner.start(job())
    assert record.events == [("progress", 0.5, None), ("failed", "the path spans fewer than two directions")]
    assert not runner.running

    def broken():
        yield 0.1
        return {}["missing"]

    with qtbot.waitSignal(runner.failed, timeout=WAIT) as failure:
        runner.start(broken())
    assert failure.args == ["KeyError: 'missing'"]  # not a ValueError: its type is named


def test_starting_a_new_job_cancels_the_old_one_silently(qtbot, runner, gate):
    old_log = []
    record = Record(runner)
    with qtbot.waitSignal(runner.progress, timeout=WAIT):
        runner.start(gated(old_log, gate))
    gate.wait_for_job()
    runner.start(x for x in (0.5, 1.0))
    with qtbot.waitSignal(runner.finished, timeout=WAIT) as done:
        gate.open.set()
    assert done.args == [None]  # a generator expression returns None
    assert old_log == [0, 1, "closed"]
    assert record.kinds() == ["progress", "progress", "progress", "finished"]  # nothing about the old one's end
    assert [e[1] for e in record.events[1:3]] == [0.5, 1.0]


def test_close_joins_the_thread_and_closes_a_running_job(qtbot):
    runner = JobRunner("closing")
    log = []

    def endless():
        try:
            while True:
                yield 0.0
        finally:
            log.append("closed")

    with qtbot.waitSignal(runner.progress, timeout=WAIT):
        runner.start(endless())
    assert runner.thread_running
    assert runner.close() and not runner.thread_running
    assert log == ["closed"]
    assert runner.close()  # closing twice is harmless


def test_a_job_that_does_not_yield_in_time_is_left_to_end_and_the_runner_starts_anew(qtbot, runner, gate):
    log = []
    with qtbot.waitSignal(runner.progress, timeout=WAIT):
        runner.start(gated(log, gate))
    gate.wait_for_job()
    assert not runner.close(timeout_ms=50)  # the job is held at its gate: close does not wait for it
    assert not runner.thread_running and not runner.running
    thread, _ = worker_module._unfinished[-1]  # kept, so that it is not destroyed while it runs
    assert thread.isRunning()
    gate.open.set()
    assert thread.wait(WAIT)  # it stopped at its next yield
    assert log == [0, 1, "closed"]
    with qtbot.waitSignal(runner.finished, timeout=WAIT) as done:
        runner.start(x for x in (0.5, 1.0))  # on a new thread
    assert done.args == [None] and runner.thread_running


def test_a_runner_never_started_has_no_thread_and_refuses_what_is_not_a_generator():
    runner = JobRunner("idle")
    assert not runner.thread_running and runner.close()
    with pytest.raises(TypeError, match="a job is a generator"):
        runner.start(lambda: None)
    assert not runner.thread_running
