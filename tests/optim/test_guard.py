"""The one NaN/inf guard: ``check_step`` for hand-written loops, the hint shared with ``Solver``."""
import math

import numpy as np
import pytest

from optim import NonFiniteError, check_step
from optim.guard import divergence_hint


def test_the_first_loss_is_not_blamed_on_the_learning_rate():
    with pytest.raises(NonFiniteError, match=r"^vae: the loss is nan at iteration 1 \(epoch 1\); no update "
                                             r"has been made yet, so the model or the loss computes it") as info:
        check_step("vae", math.nan, 1, 1, 0.1)
    assert "learning rate" not in str(info.value)
    assert (info.value.iteration, info.value.epoch, info.value.parameter) == (1, 1, None)


def test_a_later_loss_and_an_updated_weight_suggest_a_lower_learning_rate():
    with pytest.raises(NonFiniteError, match=r"the loss is inf at iteration 4 \(epoch 2\); "
                                             r"try a lower learning rate \(now 0.5\)$"):
        check_step("gan", math.inf, 4, 2, 0.5)
    # A weight is checked after the step's update: even at iteration 1 the update made it.
    with pytest.raises(NonFiniteError, match=r"W holds NaN or inf at iteration 1 \(epoch 1\); "
                                             r"try a lower learning rate") as info:
        check_step("train_sgd", 1.0, 1, 1, 0.5, W=np.array([1.0, np.inf]))
    assert info.value.parameter == "W"


def test_a_loss_computed_after_an_update_of_the_same_step_may_blame_the_learning_rate():
    with pytest.raises(NonFiniteError, match=r"gan: generator: the loss is nan at iteration 1 \(epoch 1\); "
                                             r"try a lower learning rate \(now 0.1\)$"):
        check_step("gan: generator", math.nan, 1, 1, 0.1, after_update=True)


def test_finite_steps_return_the_loss_as_a_float():
    value = check_step("spiral", np.array([2.5], np.float32), 3, 1, 0.1, W=np.ones(3))
    assert value == 2.5 and type(value) is float


@pytest.mark.parametrize("loss, error, message", [
    (np.array([1.0, 2.0]), ValueError, r"check_step: loss must be a single number .*shape \(2,\)"),
    (np.zeros((0,)), ValueError, r"shape \(0,\)"),
    ("1.0", TypeError, "check_step: loss must be a real number, got '1.0'"),
    (None, TypeError, "check_step: loss must be a real number, got None"),
    (True, TypeError, "check_step: loss must be a real number, got True"),
])
def test_a_loss_that_is_not_one_number_is_refused_clearly(loss, error, message):
    with pytest.raises(error, match=message):
        check_step("vae", loss, 2, 1, 0.1)


def test_the_hint_suggests_clipping_only_where_the_loop_offers_it():
    assert divergence_hint(2, 1e-3) == "try a lower learning rate (now 0.001)"
    assert divergence_hint(2, 1e-3, clipping=False).endswith("or gradient clipping (clip_grad_norm=...)")
    assert divergence_hint(2, 1e-3, clipping=True) == "try a lower learning rate (now 0.001)"
    assert divergence_hint(1, 1e-3, updated=True) == "try a lower learning rate (now 0.001)"
    assert divergence_hint(1, 1e-3, clipping=False).startswith("no update has been made yet")
