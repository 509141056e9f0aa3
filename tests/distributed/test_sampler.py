"""DistributedSampler against PyTorch's index rules, worked out by hand (and against PyTorch itself when installed)."""

import pytest

import minigrad as mg
from minigrad.utils.data import DataLoader, DistributedSampler, TensorDataset


def _shares(n, replicas, **options):
    return [list(DistributedSampler(range(n), num_replicas=replicas, rank=r, shuffle=False, **options))
            for r in range(replicas)]


# PyTorch's rule: pad 0 … N-1 by repeating from the start up to a multiple of R (or, with drop_last, cut it
# down), then rank r takes positions r, r+R, r+2R, …
CASES = [
    # N, R, drop_last, the ranks' indices
    (10, 2, False, [[0, 2, 4, 6, 8], [1, 3, 5, 7, 9]]),                  # divides: no padding
    (10, 3, False, [[0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]]),          # 10 -> 12: 0, 1 repeated
    (10, 3, True, [[0, 3, 6], [1, 4, 7], [2, 5, 8]]),                    # 10 -> 9: 9 dropped
    (2, 5, False, [[0], [1], [0], [1], [0]]),                            # padding longer than the data: 0 1 0 1 0
    (7, 4, True, [[0], [1], [2], [3]]),                                  # ⌈(7 - 4) / 4⌉ = 1 each
]


@pytest.mark.parametrize("n, replicas, drop_last, expected", CASES)
def test_without_shuffle_the_indices_are_pytorchs(n, replicas, drop_last, expected):
    assert _shares(n, replicas, drop_last=drop_last) == expected
    assert [len(DistributedSampler(range(n), replicas, r, shuffle=False, drop_last=drop_last))
            for r in range(replicas)] == [len(e) for e in expected]


@pytest.mark.parametrize("n, replicas, drop_last, expected", CASES)
def test_the_same_indices_as_pytorchs_sampler(n, replicas, drop_last, expected):
    torch_data = pytest.importorskip("torch.utils.data")
    for rank in range(replicas):
        theirs = torch_data.DistributedSampler(range(n), num_replicas=replicas, rank=rank, shuffle=False,
                                               drop_last=drop_last)
        assert list(DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)) == list(theirs)


def test_shuffled_shares_come_from_seed_plus_epoch_and_cover_the_data():
    samplers = [DistributedSampler(range(11), num_replicas=3, rank=r, seed=4) for r in range(3)]
    first = [list(s) for s in samplers]
    order = mg.Generator().manual_seed(4).host_permutation(11).tolist()
    padded = order + order[:1]                                            # 11 -> 12
    assert first == [padded[r::3] for r in range(3)]                      # every rank drew the same order
    assert [list(s) for s in samplers] == first                           # the same epoch repeats
    for s in samplers:
        s.set_epoch(1)
    second = [list(s) for s in samplers]
    assert second != first and set(sum(second, [])) == set(range(11))
    assert second[0] == [list(mg.Generator().manual_seed(5).host_permutation(11))[i] for i in (0, 3, 6, 9)]


def test_arguments_are_checked_and_the_defaults_come_from_the_group(world):
    with pytest.raises(ValueError, match=r"Invalid rank 3, rank should be in the interval \[0, 2\]"):
        DistributedSampler(range(5), num_replicas=3, rank=3)
    with pytest.raises(ValueError, match="num_replicas must be a positive integer, got 0"):
        DistributedSampler(range(5), num_replicas=0, rank=0)
    with pytest.raises(RuntimeError, match="init_process_group"):
        DistributedSampler(range(5))
    world(size=2)
    sampler = DistributedSampler(range(5))
    assert (sampler.num_replicas, sampler.rank, len(sampler)) == (2, 0, 3)


def test_a_data_loader_takes_a_sampler():
    ds = TensorDataset(mg.arange(10))
    sampler = DistributedSampler(ds, num_replicas=3, rank=1, shuffle=False)
    loader = DataLoader(ds, 2, False, sampler)                            # PyTorch's positional order
    assert [b[0].tolist() for b in loader] == [[1, 4], [7, 0]] and len(loader) == 2
    assert len(DataLoader(ds, batch_size=3, sampler=sampler, drop_last=True)) == 1
    with pytest.raises(ValueError, match="sampler option is mutually exclusive with shuffle"):
        DataLoader(ds, batch_size=2, shuffle=True, sampler=sampler)
