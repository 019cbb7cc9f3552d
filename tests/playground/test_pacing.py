"""The worker's pacing rules, each on its own."""
import pytest

from playground.training import pacing


def test_one_slow_frame_does_not_slow_the_views_down():
    clock = pacing.FrameClock()
    for _ in range(20):
        clock.record(0.01)
    typical = clock.seconds
    clock.record(0.5)  # a resize or a tab switch
    assert typical == pytest.approx(0.01, rel=0.1)
    assert clock.seconds < 2 * typical
    for _ in range(20):  # a machine that really got slower is followed
        clock.record(0.08)
    assert clock.seconds == pytest.approx(0.08, rel=0.1)


def test_snapshots_come_at_most_30_a_second_keep_drawing_to_a_tenth_and_come_twice_a_second():
    clock = pacing.FrameClock()
    assert clock.publish_interval() == pytest.approx(1 / 30)  # cheap frames: the rate cap
    for _ in range(50):
        clock.record(0.02)
    assert clock.publish_interval() == pytest.approx(0.2, rel=0.05)  # 20 ms frames: a tenth of the time
    for _ in range(200):
        clock.record(0.3)
    assert clock.publish_interval() == pacing.SLOWEST_FRAMES  # however slow, the views stay live


@pytest.mark.parametrize("steps_per_second, steps_per_epoch, expected", [
    (10_000, 25, 40),  # 400 epochs a second: test every 40th, ten passes a second
    (10_000, 26, 39),  # rounded up: never more than ten
    (50, 25, 1),  # two epochs a second: every epoch
    (0, 25, 1),  # paused
    (1_000, 1, 100),  # full batch: one step an epoch
])
def test_the_test_set_is_evaluated_at_most_ten_times_a_second(steps_per_second, steps_per_epoch, expected):
    every = pacing.epochs_between_tests(steps_per_second, steps_per_epoch)
    assert every == expected
    assert steps_per_second / steps_per_epoch / every <= pacing.TEST_HZ


def test_outputs_are_paced_while_training_and_always_fresh_when_paused():
    assert not pacing.output_due(now=10.05, last=10.0, cost=0.001, running=True)
    assert pacing.output_due(now=10.2, last=10.0, cost=0.001, running=True)  # 1/6 s later
    assert not pacing.output_due(now=10.5, last=10.0, cost=0.1, running=True)  # a 100 ms pass: at most a tenth
    assert pacing.output_due(now=11.01, last=10.0, cost=0.1, running=True)
    assert pacing.output_due(now=10.0, last=10.0, cost=1.0, running=False)  # a paused view never lags


def test_checkpoints_are_dense_at_first_then_sparse_and_never_far_behind():
    assert all(pacing.checkpoint_due(e, 0.0) for e in range(1, 1001))
    kept = [e for e in range(1001, 20001) if pacing.checkpoint_due(e, 0.0)]
    assert kept[:3] == [1010, 1020, 1030] and 10000 in kept and 10010 not in kept and 10100 in kept
    assert pacing.checkpoint_due(12345, pacing.CHECKPOINT_SECONDS)  # the most recent is at most that old
