"""``save`` / ``load``: checkpoints as safetensors files — safe to load, written atomically.

The file is a standard safetensors file: an 8-byte little-endian header length,
a JSON header naming each tensor's dtype, shape and byte range, then the raw
bytes. Loading parses JSON and copies bytes; nothing in the file is ever
executed (there is no pickle anywhere).

What minigrad adds lives in the header's ``__metadata__``: the structure of the
saved object (nested dicts and lists, numbers, strings, bools, None, integer
dict keys) as JSON, with each tensor replaced by its name. A model's
``state_dict`` is saved with its own keys as tensor names, so PyTorch reads it
directly::

    from safetensors.torch import load_file
    torch_model.load_state_dict(load_file("model.safetensors"))

Each save writes a temporary file of its own beside the target
(``.NAME.PID.RANDOM.tmp``), flushes and syncs it, then renames it over the
target: a crash at any moment leaves either the old file or the complete new
one, saves running at once (processes or threads) never share a temporary, and
a reader always opens one whole save. A save killed mid-write leaves its
temporary behind; the next save to the same target deletes those whose process
(the PID in the name) has died, so killed saves leave at most one. Saving
through a symbolic link writes the file it points to; new files get the usual
permissions (0666 less the umask).

Loading checks the file as the safetensors format requires before reading any
tensor: a header of at most ``MAX_HEADER_BYTES`` bytes and ``MAX_ENTRIES``
tensors, known dtypes, shapes of non-negative integers, no duplicate names, a
``__metadata__`` of strings, and byte ranges that are sorted, contiguous,
exactly ``numel × itemsize`` long and cover the data section exactly. Anything
else — a tensor of more than ``MAX_DIMS`` dimensions, or a path that is not a
regular file (``/dev/zero``, a FIFO, a folder, a link to one) — is a
``CheckpointError`` (a ``ValueError``) naming the file and the problem;
file-system problems stay ``OSError``.
"""

import contextlib
import json
import math
import os
import re
import secrets
import stat
import struct

import numpy as np

from minigrad import _dtype
from minigrad.backend.devices import as_device
from minigrad.tensor import Tensor

_CODES = {"float16": "F16", "float32": "F32", "float64": "F64", "int32": "I32", "int64": "I64", "bool": "BOOL"}
_FROM_CODE = {code: _dtype.get_dtype(name) for name, code in _CODES.items()}
_FORMAT = "minigrad.checkpoint/1"
MAX_HEADER_BYTES = 16 * 1024 * 1024   # the JSON header of a checkpoint (a model of 100,000 tensors needs ~10 MB)
MAX_ENTRIES = 100_000                # tensors in one file
MAX_DIMS = 64                        # dimensions of one tensor (NumPy's limit)
_MAX_NESTING = 200                   # depth of the saved object's structure


class CheckpointError(ValueError):
    """A file that is not a readable checkpoint (truncated, corrupted, or another format)."""


# ================================================================== save
def save(obj, path):
    """Write ``obj`` — a tensor, or nested dicts/lists/tuples of tensors and plain values — to ``path``.

    Tuples come back as lists. The write is atomic.
    """
    tensors = {}
    structure = _encode(obj, tensors, flat_names=_is_flat_tensor_dict(obj), path="")
    if "__metadata__" in tensors:
        raise ValueError("save: a tensor cannot be named '__metadata__' (safetensors keeps that name for the header)")
    header = {"__metadata__": {"format": _FORMAT, "structure": json.dumps(structure)}}
    offset = 0
    for name, t in tensors.items():
        nbytes = t.numel() * t.element_size()
        header[name] = {"dtype": _CODES[t.dtype.name], "shape": list(t.shape), "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    header_bytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    header_bytes += b" " * (-len(header_bytes) % 8)  # safetensors pads the header to 8 bytes
    _write_atomically(path, header_bytes, tensors)


def _is_flat_tensor_dict(obj):
    return isinstance(obj, dict) and obj and all(isinstance(k, str) and isinstance(v, Tensor) for k, v in obj.items())


def _encode(obj, tensors, flat_names, path):
    """The JSON-able structure of ``obj``; tensors are moved into ``tensors`` under a unique name."""
    if isinstance(obj, Tensor):
        name = path or "tensor"
        while name in tensors:
            name += "_"
        if obj.dtype.name not in _CODES:
            raise TypeError(f"save: tensors of dtype {obj.dtype} cannot be saved")
        tensors[name] = obj
        return {"__tensor__": name}
    if isinstance(obj, dict):
        items = []
        for key, value in obj.items():
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                raise TypeError(f"save: dict keys must be str, int, float, bool or None, got {type(key).__name__}")
            child = key if flat_names else (f"{path}/{key}" if path else str(key))
            items.append([key, _encode(value, tensors, False, child)])
        return {"__dict__": items}
    if isinstance(obj, (list, tuple)):
        return {"__list__": [_encode(v, tensors, False, f"{path}/{i}" if path else str(i)) for i, v in enumerate(obj)]}
    if isinstance(obj, (np.integer, np.floating, np.bool_)):
        return obj.item()
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    raise TypeError(f"save: cannot save a value of type {type(obj).__name__} at {path or 'the top level'!r}; "
                    "only tensors, numbers, strings, bools, None, lists, tuples and dicts are allowed")


def _write_atomically(path, header_bytes, tensors):
    path = os.path.realpath(os.fspath(path))             # through a symbolic link, to the file it names
    folder, name = os.path.split(path)
    _remove_dead_temporaries(folder, name)
    tmp = os.path.join(folder, f".{name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")   # this save's own
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)                    # 0666 less the umask
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(struct.pack("<Q", len(header_bytes)))
            f.write(header_bytes)
            for t in tensors.values():
                host = np.ascontiguousarray(t.detach().cpu().numpy())
                f.write(host.astype(host.dtype.newbyteorder("<"), copy=False).tobytes())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _sync_folder(folder)


def _remove_dead_temporaries(folder, name):
    """Delete the temporaries of saves to ``name`` whose process has died (killed mid-save); a live one's stay."""
    pattern = re.compile(rf"\.{re.escape(name)}\.(\d+)\.[0-9a-f]{{8}}\.tmp")
    try:
        entries = os.listdir(folder)
    except OSError:
        return
    for entry in entries:
        match = pattern.fullmatch(entry)
        if match and not _process_alive(int(match.group(1))):
            with contextlib.suppress(OSError):           # another save removed it first
                os.unlink(os.path.join(folder, entry))


def _process_alive(pid):
    """Whether process ``pid`` exists (signal 0 checks without sending anything); where unsure, yes."""
    if pid == os.getpid() or os.name != "posix":         # (elsewhere os.kill would end the process)
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:                              # it exists, as another user's process
        return True
    return True


def _sync_folder(folder):
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ================================================================== load
def load(path, map_location=None, weights_only=True):
    """Read what ``save`` wrote (or any safetensors file, as a dict of tensors).

    Args:
        path: the file, or a file object opened for reading bytes (``io.BytesIO``), as in PyTorch.
        map_location: the device to put tensors on ("cpu" by default).
        weights_only: accepted for PyTorch compatibility; loading never runs code.

    Raises:
        CheckpointError: the file is truncated, corrupted or not a checkpoint (named in the message).
    """
    device = as_device(map_location or "cpu")
    if hasattr(path, "read"):
        blob, path = path.read(), str(getattr(path, "name", "<file object>"))
    else:
        path = os.fspath(path)
        blob = read_regular_file(path)
    header, data_start = _read_header(blob, path)
    meta = header.pop("__metadata__", None) or {}
    if not isinstance(meta, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items()):
        raise CheckpointError(f"load: {path!r} is corrupted (its __metadata__ must map strings to strings)")
    entries = _checked_entries(header, len(blob) - data_start, path)
    tensors = {name: _read_tensor(blob, data_start, entry, device) for name, entry in entries.items()}
    if meta.get("format") != _FORMAT:
        return tensors  # a plain safetensors file
    try:
        structure = json.loads(meta["structure"])
        return _decode(structure, tensors, 0)
    except (KeyError, TypeError, ValueError, RecursionError) as exc:
        raise CheckpointError(f"load: {path!r} has a damaged structure record ({type(exc).__name__}: {exc})") from None


def read_regular_file(path):
    """The bytes of ``path``; a device, FIFO, socket or folder (through a symbolic link too) is refused at once.

    The check is made on the descriptor that is read, so a path swapped after the check cannot slip through;
    O_NONBLOCK keeps the open of a FIFO without a writer from blocking (it changes nothing for regular files).
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise CheckpointError(f"load: {path!r} is not a regular file ({_kind(mode)}); checkpoints are files")
        with os.fdopen(fd, "rb") as f:                   # it closes the descriptor
            fd = None
            return f.read()
    finally:
        if fd is not None:
            os.close(fd)


def _kind(mode):
    kinds = {stat.S_ISDIR: "a folder", stat.S_ISCHR: "a character device", stat.S_ISBLK: "a block device",
             stat.S_ISFIFO: "a FIFO", stat.S_ISSOCK: "a socket"}
    return next((name for test, name in kinds.items() if test(mode)), "a special file")


def _read_header(blob, path):
    if len(blob) < 8:
        raise CheckpointError(f"load: {path!r} is not a minigrad checkpoint (only {len(blob)} bytes)")
    (size,) = struct.unpack("<Q", blob[:8])
    if size > len(blob) - 8:
        raise CheckpointError(f"load: {path!r} is not a minigrad checkpoint, or it is truncated "
                              f"(its header claims {size} bytes, the file has {len(blob)})")
    if size > MAX_HEADER_BYTES:
        raise CheckpointError(f"load: {path!r} has a header of {size} bytes; minigrad reads headers of at most "
                              f"{MAX_HEADER_BYTES} bytes (minigrad.serialization.MAX_HEADER_BYTES)")
    try:
        header = json.loads(blob[8:8 + size].decode("utf-8"), object_pairs_hook=_no_duplicates)
    except _Duplicate as exc:
        raise CheckpointError(f"load: {path!r} is corrupted (the name {exc.args[0]!r} appears twice)") from None
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise CheckpointError(f"load: {path!r} is not a minigrad checkpoint (its header is not valid JSON)") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"load: {path!r} is not a minigrad checkpoint (unexpected header)")
    count = len(header) - ("__metadata__" in header)
    if count > MAX_ENTRIES:
        raise CheckpointError(f"load: {path!r} lists {count} tensors; the limit is {MAX_ENTRIES}")
    return header, 8 + size


class _Duplicate(Exception):
    pass


def _no_duplicates(pairs):
    found = {}
    for key, value in pairs:
        if key in found:
            raise _Duplicate(key)
        found[key] = value
    return found


def _checked_entries(header, data_size, path):
    """{name: (dtype, shape, begin, end)}, once every entry is well formed and the byte ranges tile the data."""
    entries = {}
    for name, info in header.items():
        try:
            dtype = _FROM_CODE[info["dtype"]]
            shape, offsets = info["shape"], info["data_offsets"]
            if set(info) - {"dtype", "shape", "data_offsets"} or not isinstance(shape, list) \
                    or not isinstance(offsets, list) or len(offsets) != 2:
                raise TypeError
            if not all(type(n) is int and n >= 0 for n in shape + offsets):
                raise TypeError
            if len(shape) > MAX_DIMS:
                raise CheckpointError(f"load: {path!r} has a tensor {name!r} of {len(shape)} dimensions; "
                                      f"at most {MAX_DIMS} are supported")
        except (KeyError, TypeError):
            raise CheckpointError(f"load: {path!r} has a malformed entry for tensor {name!r} ({info!r:.200})") from None
        begin, end = offsets
        if end - begin != math.prod(shape) * dtype.itemsize:
            raise CheckpointError(f"load: {path!r} is corrupted: tensor {name!r} of shape {tuple(shape)} and dtype "
                                  f"{dtype} needs {math.prod(shape) * dtype.itemsize} bytes, its range {begin}..{end} "
                                  f"holds {end - begin}")
        entries[name] = (dtype, tuple(shape), begin, end)
    position = 0
    for name, (_, _, begin, end) in sorted(entries.items(), key=lambda item: (item[1][2], item[1][3])):
        if begin != position:
            what = "overlaps the one before" if begin < position else f"leaves bytes {position}..{begin} unused"
            raise CheckpointError(f"load: {path!r} is corrupted: the byte range of tensor {name!r} {what}")
        position = end
    if position != data_size:
        raise CheckpointError(f"load: {path!r} is truncated or corrupted: its tensors cover {position} bytes, its data "
                              f"section has {data_size}")
    return entries


def _read_tensor(blob, data_start, entry, device):
    dtype, shape, begin, _ = entry
    host = np.frombuffer(blob, dtype=dtype.numpy.newbyteorder("<"), count=math.prod(shape),
                         offset=data_start + begin).astype(dtype.numpy).reshape(shape)
    return Tensor._wrap(device.backend.asarray(host), device)


def _decode(node, tensors, depth):
    if depth > _MAX_NESTING:
        raise ValueError(f"the saved object is nested deeper than {_MAX_NESTING} levels")
    if isinstance(node, dict):
        if "__tensor__" in node:
            return tensors[node["__tensor__"]]
        if "__dict__" in node:
            return {_key(key): _decode(value, tensors, depth + 1) for key, value in node["__dict__"]}
        if "__list__" in node:
            return [_decode(v, tensors, depth + 1) for v in node["__list__"]]
        raise ValueError(f"unknown record {sorted(node)}")
    if isinstance(node, list):
        raise ValueError("a bare list where a record was expected")
    return node


def _key(key):
    if isinstance(key, (list, dict)):
        raise ValueError(f"a dict key must be a string, number, bool or None, got {type(key).__name__}")
    return key
