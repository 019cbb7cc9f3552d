"""Waiting for what a person would wait for in the window: a build, some epochs, a pause."""
WAIT = 10000


def settled(qtbot, session, timeout=WAIT):
    """Wait until every rebuild sent has been answered and the run's first snapshot has come."""
    qtbot.waitUntil(lambda: not session.busy and session.snapshot is not None, timeout=timeout)


def train(qtbot, window, epochs):
    """Play until the run has at least ``epochs`` epochs, then pause and wait for the last snapshot."""
    session = window.session
    if not session.running:
        session.play()
    qtbot.waitUntil(lambda: session.snapshot is not None and session.snapshot.epoch >= epochs, timeout=WAIT)
    pause(qtbot, window)


def pause(qtbot, window):
    session = window.session
    session.pause()
    qtbot.waitUntil(lambda: not session.running and session.snapshot is not None and not session.snapshot.running,
                    timeout=WAIT)
