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
        if data is None:
            data = Tensor(())
        p = object.__new__(cls)
        Tensor._init(p, data._array, data.device)
        p._counter = data._version_counter()     # the same memory: changes through either are counted once
        if requires_grad:
            p.requires_grad = True
        return p

    def __init__(self, data=None, requires_grad=True):
        pass  # all done in __new__

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

