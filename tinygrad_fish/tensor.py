"""The :class:`Tensor`: a numpy array that remembers how it was made.

A Tensor holds its values in ``.data`` (a plain ``numpy.ndarray``), its gradient in ``.grad``
(a Tensor, or None), and, when it was computed by an op from tensors that require grad, the
graph node that made it. ``loss.backward()`` walks those nodes back to the leaves.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator, Sequence
from typing import Any, SupportsIndex

import numpy as np
import numpy.typing as npt

from . import autograd
from .errors import DTypeError, GraphError, IndexingError, InvalidArgumentError, ShapeError

__all__ = ["ArrayLike", "Tensor", "as_tensor"]

#: What a Tensor can be made from: a Tensor, a numpy array, a (nested) list, or a scalar.
ArrayLike = Any

Axis = int | tuple[int, ...] | None


class Tensor:
    """An n-dimensional array (numpy) with reverse-mode automatic differentiation.

    Args:
        data: the values: a nested list, a scalar, a numpy array (used as is, not copied, so
            in-place edits of the array are seen by the tensor), or another Tensor.
        requires_grad: record ops on this tensor so that ``backward()`` fills ``.grad``.
            Only floating-point tensors may require grad.
        dtype: numpy dtype to convert to; by default numpy's own choice (Python floats give
            float64, ints int64).
        name: a label shown in ``repr`` and in graph drawings (e.g. ``"W1"``).

    Raises:
        DTypeError: ``requires_grad=True`` on a non-float dtype, data numpy cannot turn
            into a numeric array, or a ``dtype`` that is unknown or not numeric.

    Examples:
        >>> x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        >>> y = (x * x).sum()
        >>> y.backward()
        >>> x.grad
        Tensor([[2., 4.],
                [6., 8.]])
    """

    __slots__ = ("__weakref__", "_ctx", "_requires_grad", "_vc", "data", "grad", "name")

    data: npt.NDArray[Any]
    grad: Tensor | None
    name: str | None
    _requires_grad: bool
    _ctx: autograd.Function | None
    #: Counts the in-place changes of this tensor's values (shared with its views and
    #: detached copies); backward() compares it with the version each graph node saw, so a
    #: value changed after it was used raises instead of silently giving a wrong gradient.
    #: None until a counter is needed (see :class:`~tinygrad_fish.autograd.VersionCounter`).
    _vc: autograd.VersionCounter | None

    def __init__(
        self,
        data: ArrayLike,
        requires_grad: bool = False,
        dtype: npt.DTypeLike | None = None,
        name: str | None = None,
    ) -> None:
        source = data if isinstance(data, Tensor) else None
        if source is not None:
            data = source.data
        try:
            arr = np.asarray(data, dtype=dtype)
        except (TypeError, ValueError, OverflowError) as e:
            raise DTypeError(f"Tensor(): cannot make a numeric array from {data!r}: {e}") from e
        if arr.dtype.kind not in "biufc":
            raise DTypeError(_not_numeric_message(data, arr))
        self.data = arr
        self.grad = None
        self.name = name
        self._ctx = None
        self._requires_grad = False
        # Tensor(t) shares t's array, so it shares its version counter too.
        self._vc = autograd._shared_counter(source) if (
            source is not None and arr is source.data) else None
        if requires_grad:
            self.requires_grad = True

    @classmethod
    def _wrap(cls, data: Any) -> Tensor:
        """Make a tensor around an array without any checks (for the engine's own use)."""
        t = cls.__new__(cls)
        t.data = data if type(data) is np.ndarray else np.asarray(data)
        t.grad = None
        t.name = None
        t._ctx = None
        t._requires_grad = False
        t._vc = None
        return t

    @property
    def _version(self) -> int:
        """How many times the values were changed in place (PyTorch's ``_version``): counted
        together with every view and detached copy of the same data."""
        c = self._vc
        return 0 if c is None else c.value

    def _bump_version(self) -> None:
        """Record an in-place change of the values (every writer of the package calls it)."""
        c = self._vc
        if c is None:
            c = self._vc = autograd.VersionCounter()
        c.value += 1

    # -----------------------------------------------------------------------------------------
    # Autograd
    # -----------------------------------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        """Whether ops on this tensor are recorded so gradients can flow back to it.

        Raises:
            DTypeError: set to True on a tensor whose dtype is not floating point.
            GraphError: set to False on a tensor made by an op (not a leaf).
        """
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if value:
            autograd._check_differentiable_dtype(self.data.dtype)
        elif self._ctx is not None:
            raise GraphError(
                "requires_grad can only be turned off on a leaf tensor; use .detach() to get "
                "a tensor outside the graph"
            )
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place and return ``self``.

        Raises:
            DTypeError: ``requires_grad=True`` on a tensor whose dtype is not floating point.
            GraphError: ``requires_grad=False`` on a tensor made by an op (not a leaf).
        """
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user rather than by an op in the graph."""
        return self._ctx is None

    @property
    def grad_fn(self) -> autograd.Function | None:
        """The graph node (a :class:`~tinygrad_fish.autograd.Function`) that made this tensor."""
        return self._ctx

    def backward(
        self,
        gradient: ArrayLike | None = None,
        retain_graph: bool = False,
        create_graph: bool = False,
    ) -> None:
        """Accumulate d(self)/d(leaf) into ``.grad`` of every leaf that requires grad.

        For a non-scalar ``self``, ``gradient`` is required, as in PyTorch: backward
        computes the vector-Jacobian product ``gradient . d(self)/d(leaf)``, and no choice
        of vector is implied. DeZero seeds ones instead (``y.backward()`` on a vector is
        ``y.sum().backward()``); write that, or ``y.backward(np.ones(y.shape))``, here.

        Args:
            gradient: d(loss)/d(self), of self's shape; may be omitted when self is a scalar.
            retain_graph: keep the graph so backward can run through it again.
            create_graph: record the backward pass too, for higher-order derivatives.

        Raises:
            GraphError: self is not a scalar and no gradient was given; self does not
                require grad; the graph was freed by an earlier backward; or a tensor the
                graph used was modified in place since.
            ShapeError: ``gradient``'s shape differs from self's.
            DTypeError: ``gradient`` is not numeric data, or self is not floating point.
            AnomalyError: inside :class:`~tinygrad_fish.detect_anomaly`, a backward
                produced NaN or inf.
        """
        autograd.backward(self, None if gradient is None else [gradient], retain_graph,
                          create_graph)

    def detach(self) -> Tensor:
        """A tensor sharing this one's data but outside the graph (requires_grad False).

        It shares the version counter too (as in PyTorch): an in-place change through the
        detached tensor makes ``backward()`` refuse a graph that saved this one.
        """
        t = Tensor._wrap(self.data)
        t._vc = autograd._shared_counter(self)
        return t

    def detach_(self) -> Tensor:
        """Make this tensor a leaf outside the graph, in place (PyTorch's ``detach_``):
        ``grad_fn`` becomes None and ``requires_grad`` False; returns ``self``. (DeZero's
        ``unchain()`` also cuts the creator, but keeps the tensor differentiable.)

        Raises:
            GraphError: the tensor is a view of another one in the graph (reshape,
                transpose, basic indexing): it shares its version counter, so it cannot
                leave the graph alone; use ``.detach()``, which gives a new tensor.
        """
        fn = self._ctx
        if fn is not None and fn.is_view and fn.inputs and self._vc is not None and (
                self._vc is fn.inputs[0]._vc):
            raise GraphError(
                f"detach_(): this tensor is a view made by {fn.name} and shares its data "
                "and version counter with its base, so it cannot be detached in place; "
                "use .detach() (a new tensor) instead"
            )
        self._ctx = None
        self._requires_grad = False
        return self

    def retain_grad(self) -> None:
        """Keep this tensor's gradient in ``.grad`` during ``backward()`` even though it
        was made by an op (a leaf keeps it anyway). It is the gradient after this
        tensor's hooks; :func:`~tinygrad_fish.grad` does not fill it, as in PyTorch.

        Raises:
            GraphError: the tensor does not require grad.
        """
        if not self._requires_grad:
            raise GraphError("retain_grad(): the tensor does not require grad")
        if self._ctx is not None:
            autograd._retain(self)

    @property
    def retains_grad(self) -> bool:
        """True for a non-leaf tensor on which :meth:`retain_grad` was called."""
        return self._ctx is not None and id(self) in autograd._retained

    def register_hook(self, hook: Any) -> autograd.RemovableHandle:
        """Call ``hook(grad)`` with this tensor's gradient each time a backward pass
        computes it (before it reaches ``.grad`` or the tensor's own inputs); a hook may
        return a Tensor to replace the gradient, or None. Hooks run in the order they were
        registered.

        Returns:
            A handle whose ``remove()`` unregisters the hook.

        Raises:
            GraphError: the tensor does not require grad.
        """
        if not self._requires_grad:
            raise GraphError("register_hook(): cannot register a hook on a tensor that "
                             "does not require grad")
        hooks = autograd._hooks_of(self)
        hook_id = autograd._next_hook_id()
        hooks[hook_id] = hook
        return autograd.RemovableHandle(self, hook_id)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (same as ``self.grad = None``)."""
        self.grad = None

    # -----------------------------------------------------------------------------------------
    # Array-like attributes
    # -----------------------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of the data."""
        return self.data.shape

    @property
    def dtype(self) -> np.dtype[Any]:
        """The numpy dtype of the data."""
        return self.data.dtype

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return self.data.ndim

    @property
    def size(self) -> int:
        """The number of elements."""
        return self.data.size

    @property
    def T(self) -> Tensor:
        """The transpose (axes reversed), in the graph."""
        return _shape.transpose(self)

    def numpy(self) -> npt.NDArray[Any]:
        """The data as a numpy array (the same array, not a copy)."""
        return self.data

    def item(self) -> Any:
        """The value of a one-element tensor (any shape of size 1) as a Python scalar.

        Raises:
            ValueError: the tensor does not have exactly one element.
        """
        if self.data.size != 1:
            raise ValueError(
                f"item(): only one-element tensors can be converted to a Python scalar, "
                f"this one has shape {self.shape}"
            )
        return self.data.item()

    def tolist(self) -> Any:
        """The data as (nested) Python lists."""
        return self.data.tolist()

    def astype(self, dtype: npt.DTypeLike) -> Tensor:
        """A copy converted to ``dtype``, of the same shape, in the graph (gradients convert
        back); a cast to a non-floating dtype leaves the graph.

        Raises:
            TypeError: ``dtype`` is not a dtype numpy understands.
        """
        return _cast.astype(self, dtype)

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __iter__(self) -> Iterator[Tensor]:
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        for i in range(len(self.data)):
            yield self[i]

    def __array__(
        self, dtype: npt.DTypeLike | None = None, copy: bool | None = None
    ) -> npt.NDArray[Any]:
        if copy:
            return np.array(self.data, dtype=dtype, copy=True)
        return self.data if dtype is None else self.data.astype(dtype, copy=False)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        """``if t:`` for a one-element tensor.

        Raises:
            ShapeError: the tensor does not have exactly one element (``if t:``, ``assert
                t == u`` and ``t in some_list`` on such tensors all land here).
        """
        n = self.data.size
        if n != 1:
            raise ShapeError(
                f"the truth value of a Tensor with {n} elements (shape {self.shape}) is "
                "ambiguous: use .any() or .all() (comparisons such as t == u are "
                "elementwise, so write 'assert (t == u).all()'; 't in a_list' compares t "
                "with each item the same way)"
            )
        return bool(self.data.item())

    def __str__(self) -> str:
        """The values as numpy prints them (``print(loss)`` shows ``2.302...``, as the book's
        arrays do); ``repr`` shows the Tensor with its dtype and graph."""
        return str(self.data)

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        extras = []
        if self.data.dtype not in (np.float64, np.int64, np.bool_):
            extras.append(f"dtype={self.data.dtype}")
        if self._ctx is not None:
            extras.append(f"grad_fn=<{type(self._ctx).__name__}>")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        if self.name is not None:
            extras.append(f"name={self.name!r}")
        return "Tensor(" + ", ".join([body, *extras]) + ")"

    # Tensors compare elementwise, so they hash by identity (as PyTorch's do).
    __hash__ = object.__hash__

    # -----------------------------------------------------------------------------------------
    # Operators (each calls the op defined with its backward in tinygrad_fish.ops)
    # -----------------------------------------------------------------------------------------
    def __add__(self, other: ArrayLike) -> Tensor:
        return _ar.Add.apply(self, other if type(other) is Tensor else as_tensor(other, self))

    def __radd__(self, other: ArrayLike) -> Tensor:
        return _ar.add(other, self)

    def __sub__(self, other: ArrayLike) -> Tensor:
        return _ar.Sub.apply(self, other if type(other) is Tensor else as_tensor(other, self))

    def __rsub__(self, other: ArrayLike) -> Tensor:
        return _ar.sub(other, self)

    def __mul__(self, other: ArrayLike) -> Tensor:
        return _ar.Mul.apply(self, other if type(other) is Tensor else as_tensor(other, self))

    def __rmul__(self, other: ArrayLike) -> Tensor:
        return _ar.mul(other, self)

    def __truediv__(self, other: ArrayLike) -> Tensor:
        return _ar.Div.apply(self, other if type(other) is Tensor else as_tensor(other, self))

    def __rtruediv__(self, other: ArrayLike) -> Tensor:
        return _ar.div(other, self)

    def __pow__(self, other: ArrayLike) -> Tensor:
        return _ar.pow(self, other)

    def __rpow__(self, other: ArrayLike) -> Tensor:
        return _ar.pow(other, self)

    def __matmul__(self, other: ArrayLike) -> Tensor:
        return _linalg.matmul(self, other)

    def __rmatmul__(self, other: ArrayLike) -> Tensor:
        return _linalg.matmul(other, self)

    def __neg__(self) -> Tensor:
        return _ar.neg(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return _math.abs(self)

    def __getitem__(self, index: Any) -> Tensor:
        return _shape.getitem(self, index)

    def __setitem__(self, index: Any, value: Any) -> None:
        """``t[index] = value``: writes numbers into ``.data`` in place, as numpy does (the
        book's ``numerical_gradient`` perturbs weights this way). The write is not recorded
        in the graph: ``value``'s number is stored, and the version counter records the
        change, so a graph that saved ``t`` refuses to backpropagate with the new values.

        Raises:
            GraphError: ``t`` was computed by an op (not a leaf) and grad mode is on; build
                the tensor with ``where`` or ``concatenate`` instead.
            InvalidArgumentError: ``t`` is a read-only view (as ``broadcast_to`` gives).
            IndexingError: numpy refuses the index.
        """
        if self._ctx is not None and autograd.is_grad_enabled():
            raise GraphError(
                "t[index] = value on a tensor computed by an op would change its graph's "
                "values behind it; build a new tensor with where() or concatenate(), or "
                "write inside `with no_grad():`"
            )
        if not self.data.flags.writeable:
            raise InvalidArgumentError(
                "t[index] = value: this tensor's data is a read-only view (as broadcast_to "
                "gives); make a tensor of its own first, e.g. t = t + 0"
            )
        idx = tuple(_raw(i) for i in index) if isinstance(index, tuple) else _raw(index)
        try:
            self.data[idx] = _raw(value)
        except IndexError as e:
            raise IndexingError(f"t[index] = value: {e} (tensor shape {self.shape})") from None
        except (TypeError, ValueError) as e:
            raise InvalidArgumentError(
                f"t[index] = value on a tensor of shape {self.shape} and dtype "
                f"{self.data.dtype}: {e}"
            ) from None
        self._bump_version()

    def __format__(self, spec: str) -> str:
        """Format a one-element tensor as its number (``f"{loss:.4f}"``); others as text."""
        if spec and self.data.size == 1:
            return format(self.data.item(), spec)
        return format(str(self), spec)

    # In-place arithmetic changes .data and is allowed only outside the graph, as in PyTorch:
    # `with no_grad(): w -= lr * w.grad`. (Without these, `w -= ...` would silently rebind
    # the name to a new tensor and leave the parameter unchanged.)
    def _inplace(self, op: str, other: ArrayLike) -> Tensor:
        if self._requires_grad and autograd.is_grad_enabled():
            raise GraphError(
                f"in-place '{op}=' on a tensor that requires grad would corrupt the graph; "
                "do it inside `with no_grad():` (e.g. for a weight update) or write "
                f"`x = x {op} y` to make a new tensor"
            )
        o = other.data if isinstance(other, Tensor) else other
        d = self.data
        if not d.flags.writeable:
            raise InvalidArgumentError(
                f"in-place '{op}=': this tensor's data is a read-only view (as broadcast_to "
                "gives); make a tensor of its own first, e.g. t = t + 0"
            )
        self._bump_version()
        try:
            if op == "+":
                d += o
            elif op == "-":
                d -= o
            elif op == "*":
                d *= o
            else:
                d /= o
        except (TypeError, ValueError) as e:  # numpy's casting and broadcasting complaints
            raise InvalidArgumentError(
                f"in-place '{op}=' on a tensor of shape {d.shape} and dtype {d.dtype}: {e}"
            ) from e
        return self

    def __iadd__(self, other: ArrayLike) -> Tensor:
        return self._inplace("+", other)

    def __isub__(self, other: ArrayLike) -> Tensor:
        return self._inplace("-", other)

    def __imul__(self, other: ArrayLike) -> Tensor:
        return self._inplace("*", other)

    def __itruediv__(self, other: ArrayLike) -> Tensor:
        return self._inplace("/", other)

    # Comparisons are not differentiable: they return bool tensors outside the graph.
    def _compare(self, other: Any, op: Any, symbol: str) -> Tensor:
        try:
            return Tensor._wrap(op(self.data, _raw(other)))
        except TypeError as e:
            raise DTypeError(
                f"cannot compare a Tensor of dtype {self.data.dtype} with a "
                f"{type(other).__name__} ({other!r}) using '{symbol}': {e}"
            ) from None
        except ValueError as e:
            raise ShapeError(
                f"cannot compare a Tensor of shape {self.shape} with "
                f"{np.shape(_raw(other))} using '{symbol}': {e}"
            ) from None

    def __eq__(self, other: object) -> Tensor:  # type: ignore[override]
        return self._compare(other, operator.eq, "==")

    def __ne__(self, other: object) -> Tensor:  # type: ignore[override]
        return self._compare(other, operator.ne, "!=")

    def __lt__(self, other: ArrayLike) -> Tensor:
        return self._compare(other, operator.lt, "<")

    def __le__(self, other: ArrayLike) -> Tensor:
        return self._compare(other, operator.le, "<=")

    def __gt__(self, other: ArrayLike) -> Tensor:
        return self._compare(other, operator.gt, ">")

    def __ge__(self, other: ArrayLike) -> Tensor:
        return self._compare(other, operator.ge, ">=")

    # numpy's dispatch protocols: numpy functions on Tensors run the engine's ops (see
    # tinygrad_fish.numpy_dispatch for the table and the rules).
    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """numpy ufuncs on Tensors (``np.exp(t)``, ``arr - t``): the engine's op where one
        exists, see :mod:`tinygrad_fish.numpy_dispatch`."""
        return _dispatch.array_ufunc(ufunc, method, *inputs, **kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        """numpy functions on Tensors (``np.dot(x, W)``, ``np.sum(t)``): the engine's op
        where one exists, see :mod:`tinygrad_fish.numpy_dispatch`."""
        return _dispatch.array_function(func, types, args, kwargs)

    # -----------------------------------------------------------------------------------------
    # Methods mirroring the functions in tinygrad_fish.ops
    # -----------------------------------------------------------------------------------------
    def exp(self) -> Tensor:
        """Elementwise e**x."""
        return _math.exp(self)

    def log(self) -> Tensor:
        """Elementwise natural logarithm."""
        return _math.log(self)

    def sqrt(self) -> Tensor:
        """Elementwise square root."""
        return _math.sqrt(self)

    def abs(self) -> Tensor:
        """Elementwise absolute value (gradient 0 at 0)."""
        return _math.abs(self)

    def relu(self) -> Tensor:
        """Elementwise max(x, 0) (gradient 0 at 0, as the book's Relu)."""
        return _act.relu(self)

    def sigmoid(self) -> Tensor:
        """Elementwise 1 / (1 + e**-x)."""
        return _act.sigmoid(self)

    def tanh(self) -> Tensor:
        """Elementwise hyperbolic tangent."""
        return _math.tanh(self)

    def clip(self, min: float | None = None, max: float | None = None) -> Tensor:
        """Limit values to [min, max] (gradient 0 where clipped); same shape.

        Raises:
            DTypeError: with numpy 2.0 only, a bound that does not fit an integer tensor's
                dtype (numpy 2.1 and later accept it).
        """
        return _sel.clip(self, min, max)

    def sum(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Sum over ``axis`` (int, tuple or None for all); the reduced axes are dropped, or
        kept as size 1 with ``keepdims``.

        Raises:
            ShapeError: an axis is out of range, repeated or not an int.
        """
        return _reduce.sum(self, axis, keepdims)

    def mean(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Mean over ``axis`` (int, tuple or None for all); shapes as :meth:`sum`.

        Raises:
            ShapeError: an axis is out of range, repeated or not an int.
        """
        return _reduce.mean(self, axis, keepdims)

    def max(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Maximum over ``axis``; ties share the gradient equally; shapes as :meth:`sum`.

        Raises:
            ShapeError: an axis is out of range, repeated or not an int, or the tensor is
                empty.
        """
        return _reduce.max(self, axis, keepdims)

    def min(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Minimum over ``axis``; ties share the gradient equally; shapes as :meth:`sum`.

        Raises:
            ShapeError: an axis is out of range, repeated or not an int, or the tensor is
                empty.
        """
        return _reduce.min(self, axis, keepdims)

    def any(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Whether any element over ``axis`` is true (nonzero): a bool tensor, not
        differentiable; shapes as :meth:`sum`.

        Raises:
            ShapeError: an axis is out of range, repeated or not an int.
        """
        return _reduce.any(self, axis, keepdims)

    def all(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Whether every element over ``axis`` is true (nonzero): a bool tensor, not
        differentiable; shapes as :meth:`sum`.

        Raises:
            ShapeError: an axis is out of range, repeated or not an int.
        """
        return _reduce.all(self, axis, keepdims)

    def argmax(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """Indices of the maxima (not differentiable; an int64 tensor): a 0-d tensor for
        ``axis=None`` (an index into the flattened data), else the shape without ``axis``
        (kept as size 1 with ``keepdims``).

        Raises:
            ValueError: ``axis`` is out of range (numpy's ``AxisError``), or the tensor is
                empty.
        """
        try:
            return Tensor._wrap(np.argmax(self.data, axis=axis, keepdims=keepdims))
        except (ValueError, TypeError) as e:  # AxisError, empty tensor, bad axis type
            raise ShapeError(f"argmax: {e} (tensor shape {self.shape})") from None

    def argmin(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """Indices of the minima (not differentiable; an int64 tensor); shapes as
        :meth:`argmax`.

        Raises:
            ValueError: ``axis`` is out of range (numpy's ``AxisError``), or the tensor is
                empty.
        """
        try:
            return Tensor._wrap(np.argmin(self.data, axis=axis, keepdims=keepdims))
        except (ValueError, TypeError) as e:  # AxisError, empty tensor, bad axis type
            raise ShapeError(f"argmin: {e} (tensor shape {self.shape})") from None

    def reshape(self, *shape: SupportsIndex | Sequence[SupportsIndex]) -> Tensor:
        """The same data in a new shape (one dimension may be -1); ``reshape(2, 3)`` or
        ``reshape((2, 3))``.

        Raises:
            ShapeError: the sizes differ, or the shape holds something other than ints.
        """
        return _shape.reshape(self, *shape)

    def transpose(self, *axes: SupportsIndex | Sequence[SupportsIndex]) -> Tensor:
        """Permute the axes (reverse them when none are given): axis ``i`` of the result is
        axis ``axes[i]`` of self.

        Raises:
            ShapeError: ``axes`` is not a permutation of ``range(self.ndim)``.
        """
        return _shape.transpose(self, *axes)

    def broadcast_to(self, shape: Sequence[int]) -> Tensor:
        """Repeat along size-1 and new leading axes to ``shape``, as numpy broadcasts.

        Raises:
            ShapeError: self's shape cannot be broadcast to ``shape``.
        """
        return _shape.broadcast_to(self, shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Axes ``start_dim..end_dim`` merged into one (PyTorch's); with no arguments the
        data as one dimension, shape ``(self.size,)``.

        Raises:
            ShapeError: an axis is out of range, or ``start_dim`` comes after ``end_dim``.
        """
        return _shape.flatten(self, start_dim, end_dim)

    def cumsum(self, axis: int | None = None) -> Tensor:
        """The running sum along ``axis`` (flattened for None), see
        :func:`tinygrad_fish.cumsum`."""
        return _reduce.cumsum(self, axis)

    def gather(self, dim: int, index: ArrayLike) -> Tensor:
        """PyTorch's ``gather`` along ``dim``, see :func:`tinygrad_fish.gather`."""
        return _indexing.gather(self, dim, index)

    def tile(self, reps: int | Sequence[int]) -> Tensor:
        """numpy's ``tile``, see :func:`tinygrad_fish.tile`."""
        return _shape.tile(self, reps)

    def repeat_interleave(self, repeats: ArrayLike, dim: int | None = None) -> Tensor:
        """Each element repeated along ``dim``, see :func:`tinygrad_fish.repeat_interleave`."""
        return _shape.repeat_interleave(self, repeats, dim)

    def norm(self, ord: Any = None, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """A vector norm (2-norm by default; gradient 0 at the zero vector), see
        :func:`tinygrad_fish.norm`."""
        return _linalg.norm(self, ord, axis, keepdims)

    def softmax(self, axis: int = -1) -> Tensor:
        """exp(x) / sum(exp(x)) along ``axis``, computed stably; same shape.

        Raises:
            ShapeError: ``axis`` is out of range or not an int, the tensor is 0-d, or it is
                empty along ``axis``.
        """
        return _nn.softmax(self, axis)

    def log_softmax(self, axis: int = -1) -> Tensor:
        """x - logsumexp(x) along ``axis``, computed stably; same shape.

        Raises:
            ShapeError: ``axis`` is out of range or not an int, the tensor is 0-d, or it is
                empty along ``axis``.
        """
        return _nn.log_softmax(self, axis)

    def sin(self) -> Tensor:
        """Elementwise sine (radians)."""
        return _math.sin(self)

    def cos(self) -> Tensor:
        """Elementwise cosine (radians)."""
        return _math.cos(self)

    def tan(self) -> Tensor:
        """Elementwise tangent (radians)."""
        return _math.tan(self)

    def asin(self) -> Tensor:
        """Elementwise inverse sine (numpy's ``arcsin``)."""
        return _math.arcsin(self)

    def acos(self) -> Tensor:
        """Elementwise inverse cosine (numpy's ``arccos``)."""
        return _math.arccos(self)

    def atan(self) -> Tensor:
        """Elementwise inverse tangent (numpy's ``arctan``)."""
        return _math.arctan(self)

    def sinh(self) -> Tensor:
        """Elementwise hyperbolic sine."""
        return _math.sinh(self)

    def cosh(self) -> Tensor:
        """Elementwise hyperbolic cosine."""
        return _math.cosh(self)

    def asinh(self) -> Tensor:
        """Elementwise inverse hyperbolic sine (numpy's ``arcsinh``)."""
        return _math.arcsinh(self)

    def acosh(self) -> Tensor:
        """Elementwise inverse hyperbolic cosine (numpy's ``arccosh``)."""
        return _math.arccosh(self)

    def atanh(self) -> Tensor:
        """Elementwise inverse hyperbolic tangent (numpy's ``arctanh``)."""
        return _math.arctanh(self)

    def log1p(self) -> Tensor:
        """Elementwise log(1 + x), accurate near 0."""
        return _math.log1p(self)

    def expm1(self) -> Tensor:
        """Elementwise exp(x) - 1, accurate near 0."""
        return _math.expm1(self)

    def exp2(self) -> Tensor:
        """Elementwise 2 ** x."""
        return _math.exp2(self)

    def log2(self) -> Tensor:
        """Elementwise base-2 logarithm."""
        return _math.log2(self)

    def log10(self) -> Tensor:
        """Elementwise base-10 logarithm."""
        return _math.log10(self)

    def erf(self) -> Tensor:
        """Elementwise error function (see :func:`tinygrad_fish.erf`)."""
        return _special.erf(self)

    def erfc(self) -> Tensor:
        """Elementwise complementary error function ``1 - erf(x)``, accurate for large x."""
        return _special.erfc(self)

    def sign(self) -> Tensor:
        """Elementwise sign, -1, 0 or 1 (gradient 0)."""
        return _math.sign(self)

    def floor(self) -> Tensor:
        """Elementwise floor (gradient 0)."""
        return _math.floor(self)

    def ceil(self) -> Tensor:
        """Elementwise ceiling (gradient 0)."""
        return _math.ceil(self)

    def trunc(self) -> Tensor:
        """Elementwise rounding towards 0 (gradient 0)."""
        return _math.trunc(self)

    def round(self, decimals: int = 0) -> Tensor:
        """Elementwise rounding to ``decimals`` decimals, halves to even (gradient 0)."""
        return _math.round(self, decimals)

    def square(self) -> Tensor:
        """Elementwise ``x * x`` (``x ** 2``)."""
        return _ar.pow(self, 2)

    def maximum(self, other: ArrayLike) -> Tensor:
        """Elementwise maximum with ``other`` (broadcasting); ties share the gradient.

        Raises:
            ShapeError: the shapes do not broadcast together.
        """
        return _sel.maximum(self, other)

    def minimum(self, other: ArrayLike) -> Tensor:
        """Elementwise minimum with ``other`` (broadcasting); ties share the gradient.

        Raises:
            ShapeError: the shapes do not broadcast together.
        """
        return _sel.minimum(self, other)

    def var(self, axis: Axis = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
        """Variance over ``axis`` with ``ddof`` (numpy's default 0; PyTorch's is 1).

        Raises:
            ShapeError: an axis is out of range, repeated or not an int.
        """
        return _reduce.var(self, axis, ddof, keepdims)

    def std(self, axis: Axis = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
        """Standard deviation over ``axis`` with ``ddof`` (numpy's default 0).

        Raises:
            ShapeError: an axis is out of range, repeated or not an int.
        """
        return _reduce.std(self, axis, ddof, keepdims)

    def squeeze(self, axis: int | Sequence[int] | None = None) -> Tensor:
        """Remove size-1 axes (all, or those in ``axis``).

        Raises:
            ShapeError: an axis is out of range, or not of size 1.
        """
        return _shape.squeeze(self, axis)

    def unsqueeze(self, axis: int) -> Tensor:
        """Insert a size-1 axis at ``axis`` (PyTorch's name; numpy's ``expand_dims``).

        Raises:
            ShapeError: ``axis`` is out of range.
        """
        return _shape.expand_dims(self, axis)

    def swapaxes(self, axis1: int, axis2: int) -> Tensor:
        """Exchange two axes.

        Raises:
            ShapeError: an axis is out of range.
        """
        return _shape.swapaxes(self, axis1, axis2)

    def flip(self, axis: int | Sequence[int] | None = None) -> Tensor:
        """Reverse the order along ``axis`` (all axes when None).

        Raises:
            ShapeError: an axis is out of range.
        """
        return _shape.flip(self, axis)

    def dot(self, other: ArrayLike) -> Tensor:
        """numpy's ``dot`` with ``other``.

        Raises:
            ShapeError: the summed axes differ in length.
        """
        return _linalg.dot(self, other)

    def matmul(self, other: ArrayLike) -> Tensor:
        """``self @ other``.

        Raises:
            ShapeError: the shapes are not aligned.
        """
        return _linalg.matmul(self, other)


def _raw(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


def _not_numeric_message(data: Any, arr: npt.NDArray[Any]) -> str:
    if isinstance(data, int) and not isinstance(data, bool):
        return (
            f"Tensor(): the integer {data} does not fit any numpy integer type (int64 or "
            "uint64); pass it as a float (Tensor(float(n))) or with dtype=np.float64"
        )
    if arr.dtype == object and any(
        isinstance(v, int) and not isinstance(v, bool) and not -2**63 <= v < 2**64
        for v in arr.flat
    ):
        return (
            "Tensor(): an integer does not fit any numpy integer type (int64 or uint64); "
            "pass the values as floats or with dtype=np.float64"
        )
    return (
        f"Tensor(): dtype {arr.dtype} is not numeric; allowed are bool, integer, floating "
        "and complex dtypes"
    )


def as_tensor(x: ArrayLike, like: Tensor | None = None) -> Tensor:
    """Return ``x`` if it is a Tensor, else a Tensor around it (no copy for arrays).

    A Python number combined with a tensor ``like`` takes the dtype numpy would give it
    (numpy treats Python numbers as "weak"): ``2 * x`` stays float32 for a float32 ``x`` and
    int8 for an int8 one.

    Raises:
        DTypeError: a Python number that does not fit ``like``'s dtype (``int8 + 300``), or
            ``x`` is data numpy cannot turn into a numeric array.
    """
    if isinstance(x, Tensor):
        return x
    if like is not None and isinstance(x, (int, float, complex)):
        dt = like.data.dtype
        if not (dt.kind == "f" and not isinstance(x, complex)):
            dt = np.result_type(dt, x)  # numpy's rule: a Python scalar is "weak"
        try:
            return Tensor._wrap(np.array(x, dtype=dt))
        except OverflowError as e:
            raise DTypeError(f"the Python number {x!r} does not fit dtype {dt}") from e
    if type(x) is np.ndarray and x.dtype.kind in "biufc":  # the engine's own masks and such
        return Tensor._wrap(x)
    return Tensor(x)


from . import numpy_dispatch as _dispatch  # noqa: E402
from .ops import activation as _act  # noqa: E402  (the ops import Tensor from this module)
from .ops import arithmetic as _ar  # noqa: E402
from .ops import cast as _cast  # noqa: E402
from .ops import indexing as _indexing  # noqa: E402
from .ops import linalg as _linalg  # noqa: E402
from .ops import math as _math  # noqa: E402
from .ops import nn as _nn  # noqa: E402
from .ops import reduce as _reduce  # noqa: E402
from .ops import selection as _sel  # noqa: E402
from .ops import shape as _shape  # noqa: E402
from .ops import special as _special  # noqa: E402
