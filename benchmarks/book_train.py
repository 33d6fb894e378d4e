"""The fish book's full training script (``ch05/train_neuralnet.py``) on the real MNIST.

The book's loop, unchanged in substance: 10,000 iterations of a random mini-batch of 100
(``np.random.choice``), ``network.gradient``, the SGD update ``params[key] -= 0.1 * grad``,
the second forward ``network.loss`` for the loss curve, and once per epoch (every 600
iterations) the accuracy on all 60,000 training and 10,000 test images, printed as
``train_acc test_acc`` like the book does.  The net is ``reference.BookTwoLayerNet`` (the book's
layers and float64 weights fed float32 images); the data comes from
``tinygrad_fish.datasets.load_mnist(normalize=True, one_hot_label=True)``, read from
``--data-dir`` or ``$TINYGRAD_FISH_DATA`` and never downloaded.

It is the baseline of ``bench_full_run.py``, which times the whole process.  The last line it
prints is ``RESULT {json}`` with the final per-epoch accuracies, the last loss, and the time
spent loading data and in the loop.

Usage::

    python benchmarks/book_train.py [--iters 10000] [--seed N] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # for `python -m` as well
from reference import BookTwoLayerNet


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--iters", type=int, default=10000)
    ap.add_argument("--batch-size", type=int, default=100)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=None, help="seed np.random (the book doesn't)")
    ap.add_argument("--data-dir", default=None, help="MNIST dir (default $TINYGRAD_FISH_DATA)")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    t_start = time.perf_counter()
    try:
        from tinygrad_fish.datasets import load_mnist
    except Exception as exc:
        print(f"book_train: tinygrad_fish.datasets.load_mnist unavailable ({exc})", file=sys.stderr)
        return 2
    if args.seed is not None:
        np.random.seed(args.seed)

    # 读入数据
    (x_train, t_train), (x_test, t_test) = load_mnist(
        normalize=True, one_hot_label=True, root=args.data_dir, download=False
    )
    t_loaded = time.perf_counter()

    network = BookTwoLayerNet(input_size=784, hidden_size=50, output_size=10)

    iters_num = args.iters
    train_size = x_train.shape[0]
    batch_size = args.batch_size
    learning_rate = args.lr

    train_loss_list = []
    train_acc_list = []
    test_acc_list = []

    iter_per_epoch = max(train_size / batch_size, 1)

    for i in range(iters_num):
        batch_mask = np.random.choice(train_size, batch_size)
        x_batch = x_train[batch_mask]
        t_batch = t_train[batch_mask]

        # 梯度
        grad = network.gradient(x_batch, t_batch)

        # 更新
        for key in ("W1", "b1", "W2", "b2"):
            network.params[key] -= learning_rate * grad[key]

        loss = network.loss(x_batch, t_batch)
        train_loss_list.append(loss)

        if i % iter_per_epoch == 0:
            train_acc = network.accuracy(x_train, t_train)
            test_acc = network.accuracy(x_test, t_test)
            train_acc_list.append(train_acc)
            test_acc_list.append(test_acc)
            print(train_acc, test_acc, flush=True)

    t_end = time.perf_counter()
    result = {
        "train_acc": train_acc_list[-1] if train_acc_list else None,
        "test_acc": test_acc_list[-1] if test_acc_list else None,
        "final_loss": float(train_loss_list[-1]) if train_loss_list else None,
        "iters": iters_num,
        "load_seconds": round(t_loaded - t_start, 3),
        "loop_seconds": round(t_end - t_loaded, 3),
    }
    print("RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
