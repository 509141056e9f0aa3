"""DataLoader, TensorDataset and the built-in datasets."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import datasets
from minigrad.utils.data import DataLoader, Dataset, TensorDataset, random_split


def test_tensor_dataset_and_batches():
    x, y = mg.arange(10).float().reshape(10, 1), mg.arange(10)
    ds = TensorDataset(x, y)
    assert len(ds) == 10 and ds[3][1].item() == 3
    loader = DataLoader(ds, batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and [b[1].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert len(DataLoader(ds, batch_size=4, drop_last=True)) == 2
    assert [b[1].shape[0] for b in DataLoader(ds, batch_size=4, drop_last=True)] == [4, 4]
    with pytest.raises(ValueError, match="size mismatch"):
        TensorDataset(mg.ones(3), mg.ones(4))
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(ds, batch_size=0)


def test_shuffle_is_a_permutation_reproducible_under_manual_seed():
    ds = TensorDataset(mg.arange(100))
    mg.manual_seed(5)
    first = np.concatenate([b[0].cpu().numpy() for b in DataLoader(ds, batch_size=16, shuffle=True)])
    second_epoch = np.concatenate([b[0].cpu().numpy() for b in DataLoader(ds, batch_size=16, shuffle=True)])
    mg.manual_seed(5)
    again = np.concatenate([b[0].cpu().numpy() for b in DataLoader(ds, batch_size=16, shuffle=True)])
    assert sorted(first.tolist()) == list(range(100)) and first.tolist() != list(range(100))
    assert np.array_equal(first, again) and not np.array_equal(first, second_epoch)


def test_generic_dataset_is_collated():
    class Squares(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return {"x": mg.tensor([float(i)]), "y": i * i}

    batch = next(iter(DataLoader(Squares(), batch_size=3)))
    assert batch["x"].shape == (3, 1) and batch["y"].tolist() == [0, 1, 4]
    parts = random_split(Squares(), [0.6, 0.4])
    assert [len(p) for p in parts] == [3, 2]


@pytest.mark.parametrize("name", ["spiral", "moons", "circles", "xor", "blobs", "sine", "iris"])
def test_datasets_are_seeded_and_shaped(name):
    x, y = datasets.load(name)
    x2, y2 = datasets.load(name)
    assert np.array_equal(x.cpu().numpy(), x2.cpu().numpy()) and x.dtype == mg.float32
    if name == "sine":
        assert y.shape == (x.shape[0], 1) and y.dtype == mg.float32
    else:
        assert y.dtype == mg.int64 and y.shape == (x.shape[0],) and y.min().item() == 0
    if name not in ("iris", "sine"):
        other, _ = datasets.load(name, seed=1)
        assert not np.array_equal(x.cpu().numpy(), other.cpu().numpy())


def test_iris_is_the_real_table():
    x, y = datasets.iris()
    assert x.shape == (150, 4) and np.bincount(y.cpu().numpy()).tolist() == [50, 50, 50]
    assert x[0].tolist() == pytest.approx([5.1, 3.5, 1.4, 0.2])


def test_train_test_split_stratifies():
    x, y = datasets.spiral(n_samples=300)
    x_train, x_test, y_train, y_test = datasets.train_test_split(x, y, test_size=0.2, seed=3)
    assert x_train.shape[0] == 240 and x_test.shape[0] == 60
    assert np.bincount(y_test.cpu().numpy()).tolist() == [20, 20, 20]
    with pytest.raises(ValueError, match="test_size"):
        datasets.train_test_split(x, y, test_size=1.5)
    with pytest.raises(ValueError, match="unknown dataset"):
        datasets.load("mnist")


def test_digits_without_sklearn_says_what_to_install(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_sklearn(name, *args, **kwargs):
        if name.startswith("sklearn"):
            raise ImportError("no sklearn here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_sklearn)
    with pytest.raises(ImportError, match="pip install scikit-learn"):
        datasets.digits()


def test_pytorch_loader_arguments_are_accepted_and_more_workers_refused_in_one_error():
    ds = TensorDataset(mg.arange(10).float().reshape(10, 1), mg.arange(10))
    plain = [b[1].tolist() for b in DataLoader(ds, batch_size=4)]
    as_pytorch_users_write_it = DataLoader(ds, batch_size=4, shuffle=False, num_workers=0, pin_memory=True,
                                           drop_last=False)
    assert [b[1].tolist() for b in as_pytorch_users_write_it] == plain
    assert [b[1].tolist() for b in DataLoader(ds, 4, False)] == plain      # PyTorch's first three, by position
    with pytest.raises(TypeError, match="sampler must be an iterable of indices"):   # PyTorch's 4th is sampler,
        DataLoader(ds, 4, False, True)                                                # not drop_last
    with pytest.raises(TypeError):                       # PyTorch's 5th is batch_sampler: the rest by keyword only
        DataLoader(ds, 4, False, None, True)
    with pytest.raises(ValueError, match=r"num_workers=2 .*not supported.*num_workers=0"):
        DataLoader(ds, batch_size=4, num_workers=2)
    with pytest.raises(ValueError, match="num_workers"):
        DataLoader(ds, batch_size=4, num_workers=-1)
    with pytest.raises(TypeError, match="pin_memory"):
        DataLoader(ds, batch_size=4, pin_memory="yes")
