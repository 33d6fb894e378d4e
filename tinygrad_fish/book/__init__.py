"""The fish book's library (``common/`` and ``dataset/``), one module per book module.

A script of the book runs on tinygrad_fish with only its import lines changed::

    from common.functions import softmax       ->  from tinygrad_fish.book.functions import softmax
    from common.layers import *                ->  from tinygrad_fish.book.layers import *
    from dataset.mnist import load_mnist       ->  from tinygrad_fish.datasets import load_mnist

===========================================  ==============================================
the book's module                            tinygrad_fish
===========================================  ==============================================
``common.functions``                         :mod:`tinygrad_fish.book.functions`
``common.gradient``                          :mod:`tinygrad_fish.book.gradient`
``common.layers``                            :mod:`tinygrad_fish.book.layers`
``common.multi_layer_net``                   :mod:`tinygrad_fish.book.multi_layer_net`
``common.multi_layer_net_extend``            :mod:`tinygrad_fish.book.multi_layer_net_extend`
``common.optimizer``                         :mod:`tinygrad_fish.book.optimizer`
``common.trainer``                           :mod:`tinygrad_fish.book.trainer`
``common.util``                              :mod:`tinygrad_fish.book.util`
``dataset.mnist``                            :mod:`tinygrad_fish.datasets`
===========================================  ==============================================

Each module holds the book's names. Where the library already has the thing (the layers,
the networks, the optimizers, ``numerical_gradient``, ``load_mnist``) the module gives the
library's own object under the book's name; what only the book's scripts use (the
``common/functions.py`` helpers, ``smooth_curve``, ``shuffle_dataset``...) lives here. None of
the book's code is copied: everything is written on the engine's ops, so on Tensors it is
differentiable, and on numpy arrays it returns what the book's returns.
"""
