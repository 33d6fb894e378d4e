# coding: utf-8
# The fish book's ch05/gradient_check.py; only the import lines differ from the book's.
# ruff: noqa: UP009, SIM118  (the book's text is kept as is)
import numpy as np

from tinygrad_fish.datasets import load_mnist
from tinygrad_fish.nn import TwoLayerNet

# 读入数据
(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, one_hot_label=True)

network = TwoLayerNet(input_size=784, hidden_size=50, output_size=10)

x_batch = x_train[:3]
t_batch = t_train[:3]

grad_numerical = network.numerical_gradient(x_batch, t_batch)
grad_backprop = network.gradient(x_batch, t_batch)

for key in grad_numerical.keys():
    diff = np.average( np.abs(grad_backprop[key] - grad_numerical[key]) )
    print(key + ":" + str(diff))
