"""``minigrad.optim``: gradient descent and the adaptive methods, with PyTorch's names and defaults."""

from minigrad.optim import lr_scheduler  # noqa: F401
from minigrad.optim.adadelta import Adadelta, adadelta  # noqa: F401
from minigrad.optim.adagrad import Adagrad, adagrad  # noqa: F401
from minigrad.optim.adam import Adam, AdamW, adam  # noqa: F401
from minigrad.optim.adamax import Adamax, adamax  # noqa: F401
from minigrad.optim.lr_tools.guard import DivergenceError, DivergenceGuard  # noqa: F401
from minigrad.optim.lr_tools.insight import format_lr_summary, lr_summary  # noqa: F401
from minigrad.optim.lr_tools.lr_finder import RangeTestResult, lr_range_test  # noqa: F401
from minigrad.optim.nadam import NAdam, nadam  # noqa: F401
from minigrad.optim.optimizer import Optimizer  # noqa: F401
from minigrad.optim.radam import RAdam, radam  # noqa: F401
from minigrad.optim.rmsprop import RMSprop, rmsprop  # noqa: F401
from minigrad.optim.sgd import SGD, sgd  # noqa: F401
