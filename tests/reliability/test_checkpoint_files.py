"""Checkpoint files that were crafted, corrupted, cut short or interrupted while being written.

Every damaged file is a CheckpointError naming the file (never garbage, never
another exception); killed saves leave at most one stray file; saving follows
symbolic links and gives the usual permissions.
"""

import json
import os
import signal
import struct
import subprocess
import sys
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.serialization import MAX_ENTRIES, MAX_HEADER_BYTES, CheckpointError


def _file(header, data=b""):
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw + data


def _entry(dtype, shape, begin, end):
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


GOOD = _file({"a": _entry("F32", [2], 0, 8), "b": _entry("I64", [1], 8, 16)}, bytes(16))

CRAFTED = {
    "gap between ranges": (_file({"a": _entry("F32", [1], 0, 4), "b": _entry("F32", [1], 8, 12)}, bytes(12)),
                           "unused"),
    "overlapping ranges": (_file({"a": _entry("F32", [2], 0, 8), "b": _entry("F32", [1], 4, 8)}, bytes(8)),
                           "needs 4 bytes|overlaps"),
    "data longer than the tensors": (_file({"a": _entry("F32", [1], 0, 4)}, bytes(12)), "cover 4 bytes"),
    "data shorter than the tensors": (_file({"a": _entry("F32", [4], 0, 16)}, bytes(8)), "cover 16 bytes"),
    "range length is not numel x itemsize": (_file({"a": _entry("F32", [3], 0, 8)}, bytes(8)), "needs 12 bytes"),
    "negative shape": (_file({"a": _entry("F32", [-1], 0, 0)}), "malformed"),
    "bool in a shape": (_file({"a": _entry("F32", [True], 0, 4)}, bytes(4)), "malformed"),
    "float in a shape": (_file({"a": _entry("F32", [1.0], 0, 4)}, bytes(4)), "malformed"),
    "unknown dtype": (_file({"a": _entry("F128", [1], 0, 16)}, bytes(16)), "malformed"),
    "missing offsets": (_file({"a": {"dtype": "F32", "shape": [1]}}, bytes(4)), "malformed"),
    "three offsets": (_file({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4, 8]}}, bytes(4)), "malformed"),
    "entry not an object": (_file({"a": [1, 2]}), "malformed"),
    "metadata not strings": (_file({"__metadata__": {"format": 1}}), "__metadata__"),
    "metadata a list": (_file({"__metadata__": ["x"]}), "__metadata__"),
    "header a list": (struct.pack("<Q", 8) + b"[1,2,3] ", "unexpected header"),
    "deeply nested header": (struct.pack("<Q", 200_000) + b"[" * 200_000, "not valid JSON"),
    "header length one byte long": (struct.pack("<Q", len(GOOD) - 8 + 1) + GOOD[8:], "truncated"),
    "header not UTF-8": (struct.pack("<Q", 8) + b"\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8", "not valid JSON"),
    "damaged structure": (_file({"__metadata__": {"format": "minigrad.checkpoint/1", "structure": "{"}}),
                          "damaged structure"),
    "structure nested too deep": (_file({"__metadata__": {"format": "minigrad.checkpoint/1",
                                                          "structure": '{"__list__":[' * 300 + "1" + "]}" * 300}}),
                                  "damaged structure"),
}


@pytest.mark.parametrize("name", CRAFTED)
def test_crafted_files_are_refused_naming_the_file_and_the_problem(name, tmp_path):
    raw, message = CRAFTED[name]
    path = tmp_path / "crafted.safetensors"
    path.write_bytes(raw)
    with pytest.raises(CheckpointError, match=message) as error:
        mg.load(path)
    assert "crafted.safetensors" in str(error.value)


def test_duplicate_names_are_refused(tmp_path):
    raw = b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}'
    path = tmp_path / "twice.safetensors"
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + bytes(8))
    with pytest.raises(CheckpointError, match="'a' appears twice"):
        mg.load(path)


def test_the_well_formed_crafted_file_loads(tmp_path):
    path = tmp_path / "good.safetensors"
    path.write_bytes(GOOD)
    loaded = mg.load(path)
    assert loaded["a"].tolist() == [0.0, 0.0] and loaded["b"].dtype == mg.int64


def test_header_and_entry_count_are_bounded_and_refused_quickly(tmp_path):
    big = tmp_path / "big.safetensors"
    big.write_bytes(struct.pack("<Q", MAX_HEADER_BYTES + 8) + b" " * (MAX_HEADER_BYTES + 8))
    start = time.perf_counter()
    with pytest.raises(CheckpointError, match="at most"):
        mg.load(big)
    many = tmp_path / "many.safetensors"
    many.write_bytes(_file({f"t{i}": _entry("F32", [0], 0, 0) for i in range(MAX_ENTRIES + 1)}))
    with pytest.raises(CheckpointError, match="the limit is"):
        mg.load(many)
    assert time.perf_counter() - start < 10


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_damaged_byte_or_cut_is_refused_or_harmless(tmp_path, data):
    """Flip a byte or cut the file anywhere: load raises CheckpointError, or returns what was saved."""
    path = tmp_path / "ck.safetensors"
    saved = {"w": mg.arange(6.0).reshape(2, 3), "meta": {"step": 3, "names": ["a", "b"]}}
    if not path.exists():
        mg.save(saved, path)
    raw = bytearray(path.read_bytes())
    if data.draw(st.booleans()):
        raw = raw[:data.draw(st.integers(0, len(raw) - 1))]
    else:
        at = data.draw(st.integers(0, len(raw) - 1))
        raw[at] ^= data.draw(st.integers(1, 255))
    damaged = tmp_path / "damaged.safetensors"
    damaged.write_bytes(bytes(raw))
    try:
        loaded = mg.load(damaged)
    except CheckpointError:
        return
    # a flipped byte inside the tensor data, or in JSON whitespace, still loads: it is a valid file
    assert isinstance(loaded, dict)


def test_a_tensor_named_metadata_is_refused_on_save(tmp_path):
    with pytest.raises(ValueError, match="__metadata__"):
        mg.save({"__metadata__": mg.ones(2)}, tmp_path / "x.safetensors")
    assert not (tmp_path / "x.safetensors").exists()


_SAVER = """
import sys, minigrad as mg
big = {"w": mg.zeros(4_000_000)}
print("ready", flush=True)
while True:
    mg.save(big, sys.argv[1])
"""


def test_killed_saves_leave_at_most_one_stray_file(tmp_path):
    target = tmp_path / "ck.safetensors"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    for kill in range(8):
        proc = subprocess.Popen([sys.executable, "-c", _SAVER, str(target)], stdout=subprocess.PIPE, env=env)
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(0.05 + 0.07 * kill)                   # land at different points of a save
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
    strays = [p for p in tmp_path.iterdir() if p.name != target.name]
    assert len(strays) <= 1, strays
    if target.exists():                                  # whatever is there is complete
        assert mg.load(target)["w"].shape == (4_000_000,)
    mg.save({"w": mg.ones(3)}, target)
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


def test_saving_through_a_symlink_writes_the_file_it_names(tmp_path):
    real = tmp_path / "real.safetensors"
    mg.save({"w": mg.zeros(2)}, real)
    link = tmp_path / "latest.safetensors"
    link.symlink_to(real)
    mg.save({"w": mg.ones(2)}, link)
    assert link.is_symlink() and mg.load(real)["w"].tolist() == [1.0, 1.0]


def test_saved_files_get_the_usual_permissions(tmp_path):
    umask = os.umask(0o022)
    os.umask(umask)
    path = tmp_path / "ck.safetensors"
    mg.save({"w": mg.zeros(2)}, path)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    assert np.array_equal(mg.load(path)["w"].cpu().numpy(), np.zeros(2, np.float32))


def test_a_tensor_of_more_than_64_dimensions_is_a_checkpoint_error(tmp_path):
    path = tmp_path / "deep.safetensors"
    path.write_bytes(_file({"a": _entry("F32", [1] * 65, 0, 4)}, bytes(4)))
    with pytest.raises(CheckpointError, match="65 dimensions") as error:
        mg.load(path)
    assert "deep.safetensors" in str(error.value)


# ---------------------------------------------------------------- concurrent saves
def test_concurrent_saves_to_one_path_never_fail_and_readers_see_whole_saves(tmp_path):
    """Two processes and two threads save to one path while this process reads it: every save succeeds,
    every read is one whole save (its tag matches its values), and no temporary file is left."""
    import threading

    target = tmp_path / "ck.safetensors"
    mg.save({"tag": 0, "w": mg.zeros(200_000)}, target)
    writer = ("import sys, minigrad as mg\n"
              "tag = int(sys.argv[2])\n"
              "for _ in range(40):\n"
              "    mg.save({'tag': tag, 'w': mg.full((200_000,), float(tag))}, sys.argv[1])\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    procs = [subprocess.Popen([sys.executable, "-c", writer, str(target), str(tag)], stderr=subprocess.PIPE, env=env)
             for tag in (1, 2)]
    errors = []

    def save_in_thread(tag):
        try:
            for _ in range(40):
                mg.save({"tag": tag, "w": mg.full((200_000,), float(tag))}, target)
        except Exception as exc:                          # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=save_in_thread, args=(tag,)) for tag in (3, 4)]
    for t in threads:
        t.start()
    reads = 0
    while any(p.poll() is None for p in procs) or any(t.is_alive() for t in threads):
        loaded = mg.load(target)
        values = np.unique(loaded["w"].cpu().numpy())
        assert values.tolist() == [float(loaded["tag"])], (loaded["tag"], values[:5])
        reads += 1
    for t in threads:
        t.join()
    assert not errors, errors
    for p in procs:
        assert p.wait() == 0, p.stderr.read().decode()
        p.stderr.close()
    assert reads > 0
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


def test_saves_into_a_folder_clean_up_only_temporaries_of_dead_processes(tmp_path):
    target = tmp_path / "ck.safetensors"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f".ck.safetensors.{dead.stdout.strip()}.a1b2c3d4.tmp"     # a killed save's temporary
    live = tmp_path / f".ck.safetensors.{os.getpid()}.e5f6a7b8.tmp"              # a save in progress here
    other = tmp_path / f".other.safetensors.{dead.stdout.strip()}.a1b2c3d4.tmp"   # another target's
    for path in (stale, live, other):
        path.write_bytes(b"partial")
    mg.save({"w": mg.ones(2)}, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([target.name, live.name, other.name])


# ---------------------------------------------------------------- special files
_LOADER = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (3 * 2 ** 30, 3 * 2 ** 30))
import minigrad as mg
from minigrad.serialization import CheckpointError
try:
    mg.load(sys.argv[1])
except CheckpointError as exc:
    print(exc)
"""


@pytest.mark.skipif(not hasattr(os, "mkfifo") or not os.path.exists("/dev/zero"), reason="needs FIFOs and /dev/zero")
@pytest.mark.parametrize("kind", ["/dev/zero", "/dev/urandom", "fifo", "link to /dev/zero", "link to fifo", "folder"])
def test_loading_anything_but_a_regular_file_is_refused_at_once(kind, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    path = {"/dev/zero": "/dev/zero", "/dev/urandom": "/dev/urandom", "fifo": str(fifo), "folder": str(tmp_path),
            "link to /dev/zero": tmp_path / "zero.safetensors", "link to fifo": tmp_path / "pipe.safetensors"}[kind]
    if kind.startswith("link"):
        path.symlink_to("/dev/zero" if kind.endswith("zero") else fifo)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    try:
        done = subprocess.run([sys.executable, "-c", _LOADER, str(path)], capture_output=True, text=True, env=env,
                              timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail(f"load({kind}) blocked")
    lines = done.stdout.strip().splitlines()
    assert done.returncode == 0 and len(lines) == 1, done.stderr[-500:]
    assert "not a regular file" in lines[0] and str(path) in lines[0]
