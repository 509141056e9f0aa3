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

Writes go to a temporary file in the same folder, which is flushed, synced and
then renamed over the target: a crash at any moment leaves either the old file
or the complete new one.
"""

import json
import os
import struct
import tempfile

import numpy as np

from minigrad import _dtype
from minigrad.backend.devices import as_device
from minigrad.tensor import Tensor

_CODES = {"float16": "F16", "float32": "F32", "float64": "F64", "int32": "I32", "int64": "I64", "bool": "BOOL"}
_FROM_CODE = {code: _dtype.get_dtype(name) for name, code in _CODES.items()}
_FORMAT = "minigrad.checkpoint/1"
_MAX_HEADER = 100 * 1024 * 1024


class CheckpointError(ValueError):
    """A file that is not a readable checkpoint (truncated, corrupted, or another format)."""


# ================================================================== save
def save(obj, path):
    """Write ``obj`` — a tensor, or nested dicts/lists/tuples of tensors and plain values — to ``path``.

    Tuples come back as lists. The write is atomic.
    """
    tensors = {}
    structure = _encode(obj, tensors, flat_names=_is_flat_tensor_dict(obj), path="")
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
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".safetensors", dir=folder)
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
        path: the file.
        map_location: the device to put tensors on ("cpu" by default).
        weights_only: accepted for PyTorch compatibility; loading never runs code.

    Raises:
        CheckpointError: the file is truncated, corrupted or not a checkpoint (named in the message).
    """
    device = as_device(map_location or "cpu")
    path = os.fspath(path)
    with open(path, "rb") as f:
        blob = f.read()
    header, data_start = _read_header(blob, path)
    meta = header.pop("__metadata__", None) or {}
    tensors = {name: _read_tensor(blob, data_start, name, info, path, device) for name, info in header.items()}
    if meta.get("format") != _FORMAT:
        return tensors  # a plain safetensors file
    try:
        structure = json.loads(meta["structure"])
        return _decode(structure, tensors)
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"load: {path!r} has a damaged structure record ({exc})") from None


def _read_header(blob, path):
    if len(blob) < 8:
        raise CheckpointError(f"load: {path!r} is not a minigrad checkpoint (only {len(blob)} bytes)")
    (size,) = struct.unpack("<Q", blob[:8])
    if size > min(len(blob) - 8, _MAX_HEADER):
        raise CheckpointError(f"load: {path!r} is not a minigrad checkpoint, or it is truncated "
                              f"(its header claims {size} bytes, the file has {len(blob)})")
    try:
        header = json.loads(blob[8:8 + size].decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise CheckpointError(f"load: {path!r} is not a minigrad checkpoint (its header is not valid JSON)") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"load: {path!r} is not a minigrad checkpoint (unexpected header)")
    return header, 8 + size


def _read_tensor(blob, data_start, name, info, path, device):
    try:
        dtype = _FROM_CODE[info["dtype"]]
        shape = tuple(int(n) for n in info["shape"])
        begin, end = (int(v) for v in info["data_offsets"])
    except (KeyError, TypeError, ValueError):
        raise CheckpointError(f"load: {path!r} has a malformed entry for tensor {name!r}") from None
    expected = int(np.prod(shape)) * dtype.itemsize
    if end - begin != expected or begin < 0 or data_start + end > len(blob):
        raise CheckpointError(f"load: {path!r} is truncated or corrupted (tensor {name!r} needs bytes "
                              f"{begin}..{end} of {len(blob) - data_start})")
    host = np.frombuffer(blob, dtype=dtype.numpy.newbyteorder("<"), count=int(np.prod(shape)),
                         offset=data_start + begin).astype(dtype.numpy).reshape(shape)
    return Tensor._wrap(device.backend.asarray(host), device)


def _decode(node, tensors):
    if isinstance(node, dict):
        if "__tensor__" in node:
            return tensors[node["__tensor__"]]
        if "__dict__" in node:
            return {key: _decode(value, tensors) for key, value in node["__dict__"]}
        if "__list__" in node:
            return [_decode(v, tensors) for v in node["__list__"]]
        raise ValueError(f"unknown record {sorted(node)}")
    return node
