"""Layers, containers and losses."""

from minigrad.nn.modules.activation import GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh  # noqa: F401
from minigrad.nn.modules.container import ModuleList, Sequential  # noqa: F401
from minigrad.nn.modules.linear import Embedding, Flatten, Identity, Linear  # noqa: F401
from minigrad.nn.modules.loss import (  # noqa: F401
    BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss,
)
from minigrad.nn.modules.module import Module  # noqa: F401
from minigrad.nn.modules.regularization import BatchNorm1d, Dropout, LayerNorm  # noqa: F401
