"""rnnlab.train: the one training loop (fit, the feeds, budgets, schedules), evaluate,
accuracy, and the progress bar that a built page must not show."""
import itertools
import types

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from rnnlab import train
from rnnlab.charlm import char_loss
from rnnlab.torch_models import CharRNN


def blobs(n=400, seed=0):
    """Two well-separated classes in 2-D: any working loop reaches high accuracy."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    X = rng.normal(size=(n, 2)).astype(np.float32) + 3.0 * y[:, None].astype(np.float32)
    return X, y


def linear():
    torch.manual_seed(0)
    return torch.nn.Linear(2, 2)


def test_fit_learns_and_logs_one_entry_per_epoch():
    X, y = blobs()
    Xv, yv = blobs(200, seed=1)
    model = linear()
    before = train.evaluate(model, Xv, yv, F.cross_entropy, metric=train.accuracy)
    history = train.fit(model, X, y, F.cross_entropy, epochs=4, batch_size=32, lr=0.05,
                        validation=(Xv, yv), metric=train.accuracy, progress=False)
    for name in ("train_loss", "grad_norm", "val_loss", "val_metric"):
        assert len(getattr(history, name)) == 4, name
    assert history.steps == [13, 26, 39, 52]           # ceil(400 / 32) updates per epoch
    assert history.val_metric[-1] > 0.95 > before[1]
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.targets == 4 * 400 and history.seconds > 0
    assert "validation metric" in history.summary()


def test_fit_is_reproducible_and_its_seed_matters():
    X, y = blobs()
    runs = [train.fit(linear(), X, y, F.cross_entropy, epochs=2, batch_size=16, seed=s,
                      progress=False).train_loss for s in (0, 0, 1)]
    assert runs[0] == runs[1] and runs[0] != runs[2]


def test_zero_epochs_train_nothing():
    X, y = blobs()
    model = linear()
    weight = model.weight.detach().clone()
    history = train.fit(model, X, y, F.cross_entropy, epochs=0, progress=False)
    assert history.train_loss == [] and torch.equal(model.weight, weight)


def test_grad_norm_is_logged_before_clipping_and_clipping_changes_the_run():
    X, y = blobs()
    free = train.fit(linear(), X, y, F.cross_entropy, epochs=2, lr=0.05, progress=False)
    clipped = train.fit(linear(), X, y, F.cross_entropy, epochs=2, lr=0.05, clip_norm=1e-6,
                        progress=False)
    assert min(clipped.grad_norm) > 1e-3            # the norm before clipping, not 1e-6
    assert clipped.train_loss != free.train_loss


def test_evaluate_weights_batches_by_size_and_restores_the_mode():
    X, y = blobs(10)
    model = linear().train()
    loss, acc = train.evaluate(model, X, y, F.cross_entropy, batch_size=4, metric=train.accuracy)
    with torch.no_grad():
        out = model(torch.as_tensor(X))
    assert loss == pytest.approx(float(F.cross_entropy(out, torch.as_tensor(y))), rel=1e-6)
    assert acc == pytest.approx(float((out.argmax(1).numpy() == y).mean()))
    assert model.training
    assert train.evaluate(model.eval(), X, y, F.cross_entropy)[1] is None and not model.training
    with pytest.raises(ValueError, match="at least one example"):
        train.evaluate(model, X[:0], y[:0], F.cross_entropy)


def test_accuracy():
    outputs = torch.tensor([[0.1, 0.9], [2.0, 1.0], [0.0, 3.0], [1.0, 0.0]])
    assert train.accuracy(outputs, torch.tensor([1, 0, 0, 1])) == 0.5
    assert train.accuracy(outputs, torch.tensor([1, 0, 1, 0])) == 1.0


def test_budget():
    with pytest.raises(ValueError, match="steps, seconds or epochs"):
        train.Budget()
    budget = train.Budget(steps=100, seconds=10.0)
    assert budget.fraction(50, 1.0, 0.0) == 0.5
    assert budget.fraction(10, 9.0, 0.0) == 0.9         # whichever is further
    assert train.Budget(epochs=0).fraction(0, 0.0, 0.0) >= 1


def test_a_seconds_budget_stops_in_time_and_counts_only_training(monkeypatch):
    """A fake clock: every update takes 0.125 s, every validation 5 s (not counted)."""
    clock = {"now": 0.0}

    def perf_counter():
        clock["now"] += 0.125         # read before and after each update
        return clock["now"]

    def validate(model):
        clock["now"] += 5.0
        return 0.0, None

    monkeypatch.setattr(train, "time", types.SimpleNamespace(perf_counter=perf_counter))
    X, y = blobs()
    history = train.train(linear(), train.ArrayFeed(X, y, batch_size=8), F.cross_entropy,
                          train.Budget(seconds=1.0), validate=validate, evals=2,
                          progress=False)
    assert history.steps[-1] == 8 and history.seconds == 1.0
    assert history.val_steps == [4, 8]


def test_learning_rate_schedule():
    assert train.Recipe(lr=0.1).lr_at(0.7) == 0.1    # no warm-up given: constant
    recipe = train.Recipe(lr=1.0, warmup=0.02)
    assert recipe.lr_at(0.0) == 0.0
    assert recipe.lr_at(0.01) == pytest.approx(0.5)
    assert recipe.lr_at(0.02) == pytest.approx(1.0)
    assert recipe.lr_at(1.0) == pytest.approx(0.02)
    values = [recipe.lr_at(f) for f in np.linspace(0.02, 1, 50)]
    assert all(a >= b for a, b in itertools.pairwise(values))


def test_the_loop_sets_the_scheduled_learning_rate():
    X, y = blobs()
    seen = []

    class Spy(train.ArrayFeed):
        def forward(self, model, x):
            seen.append(optimizer_lr(model))
            return model(x)

    def optimizer_lr(model):  # the AdamW step size shows in the next update's size
        return model.weight.detach().clone()

    model = linear()
    train.train(model, Spy(X, y, batch_size=40), F.cross_entropy, train.Budget(steps=10),
                train.Recipe(lr=0.1, warmup=0.5), progress=False)
    moves = [float((b - a).abs().max()) for a, b in itertools.pairwise(seen)]
    assert moves[0] == 0.0                    # lr 0 at the first update: nothing moves
    assert moves[4] > moves[1] and moves[-1] < moves[4]   # warm-up, then decay


def test_evals_and_logging_points():
    X, y = blobs()
    calls = []

    def validate(model):
        calls.append(1)
        return 0.5, None

    history = train.train(linear(), train.ArrayFeed(X, y, 40), F.cross_entropy,
                          train.Budget(steps=30), validate=validate, evals=3, log_every=7,
                          progress=False)
    assert history.val_steps == [10, 20, 30] and len(calls) == 3
    assert history.steps == [7, 14, 21, 28, 30] and history.val_metric == []


class Recorder(torch.nn.Module):
    """Wraps a CharRNN and records the state it is given and the one it returns."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.inner = CharRNN(6, 5, cell="gru", embed_size=3)
        self.given, self.returned = [], []

    def forward(self, ids, state=None):
        self.given.append(state)
        logits, new = self.inner(ids, state)
        self.returned.append(new)
        return logits, new


def test_stream_feed_carries_the_state_and_cuts_the_gradient():
    ids = np.random.default_rng(0).integers(0, 6, 2000)
    model = Recorder()
    feed = train.StreamFeed(ids, batch_size=4, seq_len=10)
    history = train.train(model, feed, char_loss, train.Budget(steps=5), progress=False)
    assert model.given[0] is None                       # a pass starts from a zero state
    for given, returned in zip(model.given[1:], model.returned[:-1]):
        assert torch.equal(given, returned.detach())    # carried over ...
        assert given.grad_fn is None and returned.grad_fn is not None  # ... and detached
    assert history.targets == 5 * 4 * 10
    with pytest.raises(ValueError, match="too few"):
        train.StreamFeed(ids[:40], batch_size=4, seq_len=10)


def test_stream_feed_restarts_the_state_at_every_pass():
    ids = np.arange(100) % 6
    feed = train.StreamFeed(ids, batch_size=2, seq_len=10)
    model = Recorder()
    train.train(model, feed, char_loss, train.Budget(epochs=2), progress=False)
    starts = [i for i, s in enumerate(model.given) if s is None]
    assert len(starts) == 2 and starts[0] == 0


def test_window_feed_gives_windows_and_the_next_id():
    ids = np.arange(1000)
    feed = train.WindowFeed(ids, length=5, batch_size=8)
    x, y = next(feed.epoch(0))
    assert x.shape == (8, 5) and np.all(np.diff(x, axis=1) == 1) and np.all(y == x[:, -1] + 1)
    assert len(feed) == 125


def test_progress_bar_is_live_unless_output_is_static(monkeypatch, capsys):
    X, y = blobs(64)
    monkeypatch.delenv(train.STATIC_OUTPUT_VARIABLE, raising=False)
    train.fit(linear(), X, y, F.cross_entropy, epochs=1, progress=True, desc="live")
    assert "live" in capsys.readouterr().err            # tqdm draws on stderr
    monkeypatch.setenv(train.STATIC_OUTPUT_VARIABLE, "1")
    assert train.static_output()
    train.fit(linear(), X, y, F.cross_entropy, epochs=1, progress=True, desc="static")
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""
