"""save/load: exact round trips, the safetensors format, atomic writes, and no code execution on load."""

import os
import pickle
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.serialization import CheckpointError


def test_nested_round_trip_keeps_values_keys_and_dtypes(tmp_path, device):
    obj = {
        "model": {"w": mg.randn(3, 2, device=device), "n": mg.tensor(7)},
        "optimizer": {"state": {0: {"step": 3, "exp_avg": mg.ones(2, dtype=mg.float64)}, 5: {}},
                      "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "amsgrad": False, "params": [0, 5]}]},
        "history": [1.5, float("inf"), None, "text", True],
        "flags": {True: 1, 2.5: "x", None: []},
        "scalar": mg.tensor(2.5, dtype=mg.float16 if device == "cpu" else mg.float32, device=device),  # strict: no float16
        "mask": mg.tensor([True, False]),
    }
    path = tmp_path / "ck.safetensors"
    mg.save(obj, path)
    back = mg.load(path, map_location=device)
    assert back["model"]["w"].tolist() == obj["model"]["w"].tolist()
    assert back["model"]["w"].device == device and back["model"]["n"].dtype == mg.int64
    assert back["optimizer"]["state"][0]["step"] == 3 and set(back["optimizer"]["state"]) == {0, 5}
    assert back["optimizer"]["param_groups"][0]["betas"] == [0.9, 0.999]  # tuples come back as lists
    assert back["history"] == [1.5, float("inf"), None, "text", True]
    assert back["flags"] == {True: 1, 2.5: "x", None: []}
    assert back["scalar"].dtype == obj["scalar"].dtype and back["scalar"].item() == 2.5
    assert back["mask"].tolist() == [True, False]


def test_a_state_dict_is_a_plain_safetensors_file(tmp_path):
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    path = tmp_path / "model.safetensors"
    mg.save(model.state_dict(), path)
    arrays = safetensors_numpy.load_file(str(path))
    assert set(arrays) == {"0.weight", "0.bias", "2.weight", "2.bias"}
    np.testing.assert_array_equal(arrays["0.weight"], model[0].weight.detach().cpu().numpy())


def test_weights_load_into_the_equivalent_torch_module(tmp_path):
    torch = pytest.importorskip("torch")
    safetensors_torch = pytest.importorskip("safetensors.torch")
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.BatchNorm1d(8), nn.Linear(8, 3))
    model(mg.randn(16, 2))  # move the running statistics
    path = tmp_path / "model.safetensors"
    mg.save(model.state_dict(), path)
    twin = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.BatchNorm1d(8), torch.nn.Linear(8, 3))
    twin.load_state_dict(safetensors_torch.load_file(str(path)))
    model.eval()
    twin.eval()
    x = np.random.default_rng(0).standard_normal((4, 2)).astype(np.float32)
    ours = model(mg.tensor(x)).detach().cpu().numpy()
    np.testing.assert_allclose(twin(torch.tensor(x)).detach().cpu().numpy(), ours, atol=1e-6)


def test_a_file_object_loads_as_its_path_does(tmp_path):
    """What a data-parallel resume does: rank 0 reads the bytes, every rank loads them from memory."""
    import io

    path = tmp_path / "state.safetensors"
    mg.save({"step": 3, "w": mg.arange(4, dtype=mg.float64)}, path)
    stream = io.BytesIO(path.read_bytes())
    back = mg.load(stream)
    assert back["step"] == 3 and back["w"].tolist() == [0.0, 1.0, 2.0, 3.0] and back["w"].dtype == mg.float64
    torn = io.BytesIO(path.read_bytes()[:20])
    torn.name = "from rank 0"
    with pytest.raises(mg.serialization.CheckpointError, match="'from rank 0'"):
        mg.load(torn)


def test_truncated_and_foreign_files_give_clear_errors(tmp_path):
    path = tmp_path / "ck.safetensors"
    mg.save({"w": mg.randn(100)}, path)
    data = path.read_bytes()
    for cut in (4, 20, len(data) - 8):
        bad = tmp_path / f"cut{cut}.safetensors"
        bad.write_bytes(data[:cut])
        with pytest.raises(CheckpointError, match=str(bad.name)):
            mg.load(bad)
    text = tmp_path / "notes.txt"
    text.write_text("just some words, not a checkpoint")
    with pytest.raises(CheckpointError, match="not a minigrad checkpoint"):
        mg.load(text)


class _Payload:
    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_pickle_payload_is_neither_executed_nor_loaded(tmp_path):
    marker = tmp_path / "executed"
    payload = _Payload()
    payload.marker = marker
    crafted = tmp_path / "evil.safetensors"
    crafted.write_bytes(pickle.dumps({"w": payload}))
    with pytest.raises(CheckpointError):
        mg.load(crafted)
    # the same payload hidden after a valid-looking header is not run either
    header = b'{"__metadata__":{"format":"minigrad.checkpoint/1","structure":"{\\"__tensor__\\": \\"w\\"}"}}'
    disguised = tmp_path / "disguised.safetensors"
    disguised.write_bytes(len(header).to_bytes(8, "little") + header + pickle.dumps(payload))
    with pytest.raises(CheckpointError):
        mg.load(disguised)
    assert not marker.exists()


def test_save_rejects_unsupported_values(tmp_path):
    with pytest.raises(TypeError, match="cannot save a value of type function"):
        mg.save({"f": lambda: 0}, tmp_path / "x.safetensors")
    assert not list(tmp_path.iterdir())  # no temporary file left behind


WRITER = textwrap.dedent("""
    import sys
    import minigrad as mg
    path = sys.argv[1]
    i = 0
    print("ready", flush=True)
    while True:
        i += 1
        mg.save({"i": i, "w": mg.full((200_000,), float(i)), "b": mg.full((3,), float(i))}, path)
""")


def test_killing_a_process_mid_save_never_leaves_a_torn_file(tmp_path):
    path = tmp_path / "ck.safetensors"
    rng = random.Random(0)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    for _ in range(12):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, env=env)
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.0, 0.25))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if path.exists():
            ck = mg.load(path)
            i = ck["i"]
            assert ck["w"].shape == (200_000,) and float(ck["w"].min()) == float(ck["w"].max()) == float(i)
            assert ck["b"].tolist() == [float(i)] * 3
    assert path.exists()
