"""Layers, containers and losses."""

from minigrad.nn.modules.activation import (  # noqa: F401
    ELU, GELU, Hardtanh, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU, Softmax, Softplus, Tanh,
)
from minigrad.nn.modules.container import ModuleList, Sequential  # noqa: F401
from minigrad.nn.modules.distance import CosineSimilarity  # noqa: F401
from minigrad.nn.modules.linear import Embedding, Flatten, Identity, Linear  # noqa: F401
from minigrad.nn.modules.loss import (  # noqa: F401
    BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, KLDivLoss, L1Loss, MSELoss, NLLLoss, SmoothL1Loss,
)
from minigrad.nn.modules.module import Module  # noqa: F401
from minigrad.nn.modules.regularization import BatchNorm1d, Dropout, LayerNorm  # noqa: F401
