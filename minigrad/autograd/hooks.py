"""``RemovableHandle``: what registering a hook returns; ``handle.remove()`` unregisters it."""

import itertools

_ids = itertools.count()


class RemovableHandle:
    """A handle to one hook stored in ``hooks_dict`` (an ordered dict: hooks run in registration order).

    Works as a context manager too: ``with tensor.register_hook(fn): ...`` removes it at the end.
    """

    def __init__(self, hooks_dict):
        self.id = next(_ids)
        self._hooks_dict = hooks_dict

    def remove(self):
        self._hooks_dict.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False
