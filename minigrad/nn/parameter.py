"""``Parameter``: a tensor that a Module registers as one of its learnable weights."""

from minigrad.tensor import Tensor


class Parameter(Tensor):
    """A Tensor that requires grad by default and is registered when assigned to a Module attribute.

    Args:
        data: the initial values (a Tensor; shared, not copied).
        requires_grad: whether the optimizer should learn it (default True).
    """

    __slots__ = ()

    def __new__(cls, data=None, requires_grad=True):
        from minigrad.ops.creation import empty

        if data is None:
            data = empty(0)
        p = object.__new__(cls)
        p._array = data._array
        p._device = data._device
        p._requires_grad = False
        p.grad = None
        p.grad_fn = None
        p._output_nr = 0
        p._version_counter = None
        p._retains_grad = False
        p._grad_storage = None
        if requires_grad:
            p.requires_grad = True
        return p

    def __init__(self, data=None, requires_grad=True):
        pass  # all done in __new__

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        raise TypeError("minigrad tensors are saved with minigrad.save, never pickled")
