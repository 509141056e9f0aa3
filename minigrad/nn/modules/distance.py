"""``CosineSimilarity``: how aligned two batches of vectors are."""

from minigrad.nn import functional as F
from minigrad.nn.modules.module import Module


class CosineSimilarity(Module):
    """x1·x2 / (max(‖x1‖, eps)·max(‖x2‖, eps)) along ``dim``: 1 for parallel vectors, 0 for orthogonal ones."""

    def __init__(self, dim=1, eps=1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1, x2):
        return F.cosine_similarity(x1, x2, self.dim, self.eps)

    def extra_repr(self):
        return f"dim={self.dim}, eps={self.eps}"
