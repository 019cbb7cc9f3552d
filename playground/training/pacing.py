"""How often the worker does the things that are not training: publishing, testing, outputs.

Training and the window share Python's GIL, so every frame the window draws is training time
lost. The rules, each a small piece of arithmetic tested on its own:

- **Publishing.** A snapshot goes out at most ``PUBLISH_HZ`` times a second, and only as often as
  keeps the window's drawing (timed by the window, averaged by ``FrameClock``) to ``VIEW_SHARE`` of
  the time; but at least every ``SLOWEST_FRAMES`` seconds, so the views look live. The worker also
  waits, up to ``FRAME_WAIT``, until the window has painted the last snapshot before it trains on.
- **Testing.** The test set is evaluated every ``epochs_between_tests`` epochs, so at most ``TEST_HZ`` passes a
  second of training (every epoch when epochs are slower, and for an epoch reached with Step).
- **Outputs.** The decision boundary or predicted-vs-actual costs a forward pass over a grid or a
  sample: at most ``OUTPUT_HZ`` times a second and at most a tenth of the time, and always when
  training pauses, so a paused view never lags the epoch shown.
- **Checkpoints.** The weights and trainer state at an epoch's end are kept for every epoch up to
  ``DENSE_CHECKPOINTS``, then ever more sparsely (every 10th epoch up to 10,000, every 100th up to
  100,000 …), and always when the last one is ``CHECKPOINT_SECONDS`` old, so the most recent epochs
  are never far; the Session's store thins them further to its memory budget.
"""
from __future__ import annotations

import math

PUBLISH_HZ = 30  # at most; fewer when frames are costly (see VIEW_SHARE)
VIEW_SHARE = 0.1  # drawing may take this share of the time
SLOWEST_FRAMES = 0.5  # seconds between frames at most, whatever they cost
FRAME_WAIT = 0.03  # the longest training waits for the window to paint a frame
SLICE_SECONDS = 0.015  # training runs in slices this long; requests are handled between them
TEST_HZ = 10  # test-set passes per second of training at most: the cost plot redraws 5 times a second
OUTPUT_HZ = 6  # outputs over the input plane move slowly
OUTPUT_SHARE = 0.1  # and may take at most this share of the time on a huge network
DENSE_CHECKPOINTS = 1000  # epochs checkpointed one by one
CHECKPOINT_SECONDS = 0.1  # the most recent checkpoint is at most about this old


class FrameClock:
    """A running average of the window's time to draw one snapshot; one odd frame barely counts."""

    def __init__(self):
        self.seconds = 0.0

    def record(self, seconds: float) -> None:
        seconds = min(seconds, 3 * self.seconds + 0.005)  # a resize or a tab switch is not the new normal
        self.seconds += 0.2 * (seconds - self.seconds)

    def publish_interval(self) -> float:
        """Seconds to wait between snapshots."""
        return min(max(1.0 / PUBLISH_HZ, self.seconds / VIEW_SHARE), SLOWEST_FRAMES)


def epochs_between_tests(steps_per_second: float, steps_per_epoch: int) -> int:
    """Epochs between test-set passes: at most TEST_HZ a second, every epoch when epochs are slower."""
    return max(1, math.ceil(steps_per_second / steps_per_epoch / TEST_HZ))


def output_due(now: float, last: float, cost: float, running: bool) -> bool:
    """Whether to compute the outputs now, given when they were last computed and what that cost."""
    return not running or now - last >= max(1.0 / OUTPUT_HZ, cost / OUTPUT_SHARE)


def checkpoint_due(epoch: int, seconds_since_last: float) -> bool:
    """Whether to keep the weights at the end of ``epoch``."""
    if epoch <= DENSE_CHECKPOINTS or seconds_since_last >= CHECKPOINT_SECONDS:
        return True
    spacing = 10 ** (len(str(epoch)) - 3)  # 10 for 4-digit epochs, 100 for 5-digit ones …
    return epoch % spacing == 0
