"""An LSTM learns a noisy sine wave, one step at a time, with truncated backprop.

DeZero's step 60 (``SinCurve`` and ``BetterRNN``), with this project's layers: a stateful
:class:`~tinygrad_fish.nn.LSTM` followed by a :class:`~tinygrad_fish.nn.Linear` predicts
the next value of the wave from the current one. The loss of ``bptt_length`` consecutive
steps is summed and back-propagated, then ``detach_state()`` cuts the hidden state from
the graph (DeZero's ``loss.unchain_backward()``), so each backward covers only its own
stretch. Run: ``python examples/lstm_sine.py``.
"""

from __future__ import annotations

import argparse

import numpy as np

from tinygrad_fish import Tensor
from tinygrad_fish.nn import LSTM, Linear, Module
from tinygrad_fish.optim import Adam


def sine_curve(num_points: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """DeZero's ``SinCurve`` (train): ``sin`` over one period plus uniform noise in
    [-0.05, 0.05]; inputs are the values (num_points - 1, 1), targets the next values."""
    t = np.linspace(0, 2 * np.pi, num_points)
    y = np.sin(t) + rng.uniform(-0.05, 0.05, size=num_points)
    return y[:-1].reshape(-1, 1), y[1:].reshape(-1, 1)


class SineRNN(Module):
    """LSTM(hidden_size) -> Linear(1): one time step (1, 1) -> the prediction (1, 1)."""

    def __init__(self, hidden_size: int, rng: np.random.Generator) -> None:
        super().__init__()
        self.rnn = LSTM(hidden_size, input_size=1, rng=rng)
        self.fc = Linear(hidden_size, 1, rng=rng)

    def reset_state(self) -> None:
        self.rnn.reset_state()

    def forward(self, x: Tensor) -> Tensor:
        out: Tensor = self.fc(self.rnn(x))
        return out


def main(
    epochs: int = 8,
    hidden_size: int = 20,
    num_points: int = 150,
    bptt_length: int = 30,
    lr: float = 0.01,
    seed: int = 0,
    verbose: bool = True,
) -> list[float]:
    """Train and return the mean squared error of each epoch (over all its steps)."""
    rng = np.random.default_rng(seed)
    xs, ts = sine_curve(num_points, rng)
    model = SineRNN(hidden_size, rng)
    optimizer = Adam(model.parameters(), lr=lr)
    history = []
    for epoch in range(epochs):
        model.reset_state()
        loss: Tensor | float = 0.0
        total, count = 0.0, 0
        for i, (x, t) in enumerate(zip(xs, ts, strict=True)):
            y = model(Tensor(x.reshape(1, 1)))
            step_loss = ((y - t.reshape(1, 1)) ** 2).mean()
            loss = loss + step_loss
            count += 1
            if (i + 1) % bptt_length == 0 or i + 1 == len(xs):
                assert isinstance(loss, Tensor)
                optimizer.zero_grad()
                loss.backward()
                model.rnn.detach_state()  # truncated BPTT
                optimizer.step()
                total += float(loss.data)
                loss = 0.0
        history.append(total / count)
        if verbose:
            print(f"epoch {epoch + 1}: loss {history[-1]:.5f}")
    return history


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--hidden-size", type=int, default=20)
    parser.add_argument("--num-points", type=int, default=150)
    args = parser.parse_args()
    main(args.epochs, args.hidden_size, args.num_points)
