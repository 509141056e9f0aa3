"""``minigrad.optim``: gradient descent and the adaptive methods, with PyTorch's names and defaults."""

from minigrad.optim import lr_scheduler  # noqa: F401
from minigrad.optim.adagrad import Adagrad  # noqa: F401
from minigrad.optim.adam import Adam, AdamW  # noqa: F401
from minigrad.optim.optimizer import Optimizer  # noqa: F401
from minigrad.optim.rmsprop import RMSprop  # noqa: F401
from minigrad.optim.sgd import SGD  # noqa: F401
from minigrad.optim.guard import DivergenceError, DivergenceGuard  # noqa: F401
from minigrad.optim.insight import format_lr_summary, lr_summary  # noqa: F401
from minigrad.optim.lr_finder import RangeTestResult, lr_range_test  # noqa: F401
