"""Every rule in every configuration its optimizer allows, traced with the step's numbers symbolic.

The tracer (``minigrad/accel/trace.py``) refuses Python control flow and conversions on
traced values, as ``cupy.fuse`` and JAX's tracers do, so a trace that succeeds proves the
rule branches only on its options. Each trace is then replayed with NumPy and must equal
the plain rule bit for bit; the CUDA kernel written from it is compiled as C++ with the
host compiler (the same source, ``T`` = float or double) and must agree bit for bit too,
and so must the NumPy kernel (ufunc calls with ``out=``), run in place on the caller's arrays.
"""

import ctypes
import inspect
import itertools
import re
import shutil
import subprocess

import numpy as np
import pytest

from minigrad import optim
from minigrad.accel import kernel_source
from minigrad.accel.trace import TraceError, options_of, trace
from minigrad.optim.elementwise import array_math, bound

STEPS = (1, 2, 10)            # the first step (new buffers), a second, and one past RAdam's rectification threshold


def _grid(**choices):
    names = list(choices)
    return [dict(zip(names, values)) for values in itertools.product(*choices.values())]


COMMON = _grid(maximize=[False, True], weight_decay=[0.0, 0.1])
OPTIONS = {
    optim.SGD: [dict(c, lr=0.1, momentum=m, dampening=d, nesterov=n) for c in COMMON
                for m, d, n in [(0.0, 0.0, False), (0.9, 0.0, False), (0.9, 0.1, False), (0.9, 0.0, True)]],
    optim.Adam: [dict(c, amsgrad=a) for c in COMMON for a in (False, True)],
    optim.AdamW: [dict(c, amsgrad=a) for c in COMMON for a in (False, True)],
    optim.Adagrad: [dict(c, lr_decay=0.01) for c in COMMON],
    optim.RMSprop: [dict(c, momentum=m, centered=k) for c in COMMON for m in (0.0, 0.5) for k in (False, True)],
    optim.Adadelta: COMMON,
    optim.Adamax: COMMON,
    optim.NAdam: [dict(c, decoupled_weight_decay=d) for c in COMMON for d in (False, True)],
    optim.RAdam: [dict(c, decoupled_weight_decay=d) for c in COMMON for d in (False, True)],
}


def _optimizer_and_group(cls, options):
    """An optimizer of ``cls`` and the group ``options`` give it (its constructor's defaults filled in), made
    without a tensor: the list below is built while the tests are collected, before any device is used."""
    defaults = {name: p.default for name, p in inspect.signature(cls.__init__).parameters.items()
                if p.default is not inspect.Parameter.empty}
    group = {**defaults, **options}
    if "betas" in group:
        group["betas"] = tuple(group["betas"])
    return object.__new__(cls), group


def configurations():
    """(class, present state, arguments of one step) for every distinct configuration of every rule."""
    found = {}
    for cls, option_list in OPTIONS.items():
        for options in option_list:
            opt, group = _optimizer_and_group(cls, options)
            names = opt.state_names(group)
            present = tuple(name in names for name in cls.rule_state)
            for step in STEPS:
                arguments = opt.rule_arguments(group, step, new_state=step == 1)
                found.setdefault((cls, present, options_of(arguments)), (cls, present, arguments, opt, group))
    return list(found.values())


CONFIGURATIONS = configurations()
IDS = [f"{cls.__name__}-{'-'.join(k for k, v in options_of(a) if v) or 'plain'}-{sum(p)}state"
       for cls, p, a, _, _ in CONFIGURATIONS]


def test_the_list_covers_every_option_of_every_rule():
    """Each boolean option of each rule is seen both on and off (where the optimizer allows it)."""
    seen = {}
    for cls, _, arguments, _, _ in CONFIGURATIONS:
        for name, value in options_of(arguments):
            seen.setdefault((cls.rule, name), set()).add(value)
    single = {(rule.__name__, name) for (rule, name), values in seen.items() if len(values) == 1}
    assert single == set()                                   # Adam and AdamW share a rule: decoupled both ways
    assert len(CONFIGURATIONS) >= 60


def _inputs(cls, present, opt, group, dtype, seed=0):
    rng = np.random.default_rng(seed)
    n = 257
    arrays = {"param": rng.standard_normal(n).astype(dtype), "grad": rng.standard_normal(n).astype(dtype)}
    for name, here in zip(cls.rule_state, present):
        if here:                                             # state as training leaves it (positive where it must be)
            arrays[name] = np.abs(rng.standard_normal(n)).astype(dtype) + np.asarray(0.01, dtype)
    if "grad_avg" in arrays:                                 # centred RMSprop: v − ḡ² stays positive
        arrays["grad_avg"] *= np.asarray(0.01, dtype)
    return arrays


def _plain(cls, present, arguments, arrays):
    """The plain path: the rule bound to NumPy, on copies; every returned value as the new array."""
    copies = {k: v.copy() for k, v in arrays.items()}
    states = [copies.get(name) if here else None for name, here in zip(cls.rule_state, present)]
    results = bound(cls.rule, array_math(np), owner=np)(copies["param"], copies["grad"], *states, **arguments)
    names = ("param", *cls.rule_state)
    return {name: np.asarray(value) for name, here, value in zip(names, (True, *present), results) if here}


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("case", CONFIGURATIONS, ids=IDS)
def test_every_configuration_traces_and_replays_bit_for_bit(case, dtype):
    cls, present, arguments, opt, group = case
    rule_trace = trace(cls.rule, cls.rule_state, present, arguments)       # raises if the rule branches on a number
    assert set(rule_trace.outputs) == {"param", *[n for n, p in zip(cls.rule_state, present) if p]}
    arrays = _inputs(cls, present, opt, group, dtype)
    numbers = {k: v for k, v in arguments.items() if not isinstance(v, bool)}
    replayed = kernel_source.replay(rule_trace, arrays, numbers)
    expected = _plain(cls, present, arguments, arrays)
    for name in expected:
        assert replayed[name].dtype == dtype
        np.testing.assert_array_equal(replayed[name], expected[name], err_msg=name)


def test_the_tracer_refuses_what_a_fused_kernel_refuses():
    """Branching on, converting or comparing a number of the step fails, as in cupy.fuse; so does absent state."""
    def branches(param, grad, *, lr, weight_decay):
        if weight_decay != 0:                                # the old rules' habit: now an option instead
            grad = grad + weight_decay * param
        return (param - lr * grad,)

    def converts(param, grad, *, lr):
        return (param - float(lr) * grad,)

    def uses_absent_state(param, grad, buffer, *, lr):
        return param - lr * buffer, buffer

    with pytest.raises(TraceError, match="weight_decay"):
        trace(branches, (), (), dict(lr=0.1, weight_decay=0.1))
    with pytest.raises(TraceError, match="lr"):
        trace(converts, (), (), dict(lr=0.1))
    with pytest.raises(TraceError, match="None"):
        trace(uses_absent_state, ("buffer",), (False,), dict(lr=0.1))


def test_the_cuda_kernel_writes_each_array_once():
    for cls, present, arguments, _, _ in CONFIGURATIONS:
        rule_trace = trace(cls.rule, cls.rule_state, present, arguments)
        in_params, out_params, body = kernel_source.cuda_kernel_parts(rule_trace)
        outputs = [p.split()[1] for p in out_params.split(", ")]
        assert outputs[0] == "param" and "T grad" in in_params
        for name in outputs:
            assert sum(line.startswith(f"{name} = ") for line in body.splitlines()) == 1, (cls, name)
        for name in rule_trace.numbers:
            assert f"float64 {name}" in in_params


_HARNESS = """
#include <cmath>
using std::sqrt; using std::fabs;
extern "C" void {name}({arrays}, {numbers}, long n) {{
    for (long i = 0; i < n; ++i) {{
        {reads}
{body}
        {writes}
    }}
}}
"""


@pytest.mark.skipif(shutil.which("g++") is None, reason="needs a C++ compiler to run the CUDA kernel's source")
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_the_cuda_kernel_source_computes_the_plain_rule_bit_for_bit(dtype, tmp_path):
    """The body of every ElementwiseKernel, compiled for the CPU as C++ (what CUDA C++ is, for this arithmetic,
    with --fmad=false as the kernels ask), applied to the same inputs as the plain rule."""
    c_type = "float" if dtype is np.float32 else "double"
    functions, cases = [], []
    for k, (cls, present, arguments, opt, group) in enumerate(CONFIGURATIONS):
        rule_trace = trace(cls.rule, cls.rule_state, present, arguments)
        in_params, out_params, body = kernel_source.cuda_kernel_parts(rule_trace)
        inputs = [p.split()[1] for p in in_params.split(", ") if p.startswith("T ")]
        outputs = [p.split()[1] for p in out_params.split(", ")]
        arrays = ", ".join(f"T *{n}_a" for n in inputs + outputs)
        numbers = ", ".join(f"double {n}" for n in rule_trace.numbers) or "double unused_"
        reads = " ".join([f"const T {n} = {n}_a[i];" for n in inputs] + [f"T {n} = {n}_a[i];" for n in outputs])
        writes = " ".join(f"{n}_a[i] = {n};" for n in outputs)
        functions.append(f"#define T {c_type}\n" + _HARNESS.format(name=f"k{k}", arrays=arrays, numbers=numbers,
                                                                   reads=reads, body=body, writes=writes) + "#undef T\n")
        cases.append((cls, present, arguments, opt, group, inputs, outputs, rule_trace.numbers))
    source = tmp_path / "kernels.cpp"
    source.write_text("".join(functions))
    library = tmp_path / "kernels.so"
    subprocess.run(["g++", "-O2", "-ffp-contract=off", "-fno-fast-math", "-shared", "-fPIC", str(source), "-o",
                    str(library)], check=True)
    compiled = ctypes.CDLL(str(library))
    for k, (cls, present, arguments, opt, group, inputs, outputs, number_names) in enumerate(cases):
        arrays = _inputs(cls, present, opt, group, dtype)
        expected = _plain(cls, present, arguments, arrays)
        work = {name: arrays[name].copy() for name in inputs + outputs}
        pointers = [work[name].ctypes.data_as(ctypes.c_void_p) for name in inputs + outputs]
        numbers = [ctypes.c_double(float(arguments[name])) for name in number_names] or [ctypes.c_double(0.0)]
        getattr(compiled, f"k{k}")(*pointers, *numbers, ctypes.c_long(arrays["param"].shape[0]))
        for name in outputs:
            np.testing.assert_array_equal(work[name], expected[name], err_msg=f"{IDS[k]}: {name}")


# ================================================================== the NumPy kernel (ufunc calls with out=)
_NUMPY_KERNELS = {}


def _numpy_kernel(case):
    """The configuration's trace and its NumPy kernel (written once per configuration)."""
    cls, present, arguments, _, _ = case
    key = (cls, present, options_of(arguments))
    if key not in _NUMPY_KERNELS:
        rule_trace = trace(cls.rule, cls.rule_state, present, arguments)
        _NUMPY_KERNELS[key] = rule_trace, kernel_source.numpy_kernel(rule_trace, options_of(arguments))
    return _NUMPY_KERNELS[key]


def _in_storage(arrays, elements):
    """Copies of the arrays as the optimizer holds them: param and the state as views of one flat array, grad apart.
    Returns (flat storage, name -> array, in ``elements`` order)."""
    kept = [name for name in elements if name != "grad"]
    n = arrays["param"].shape[0]
    storage = np.concatenate([arrays[name] for name in kept])
    views = {name: storage[k * n:(k + 1) * n] for k, name in enumerate(kept)}
    views["grad"] = arrays["grad"].copy()
    return storage, {name: views[name] for name in elements}


def _work(kernel, like):
    """Fresh work arrays, full of NaN: a value read before it is written would show."""
    return [np.full_like(like, np.nan) for _ in range(kernel.buffers)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("case", CONFIGURATIONS, ids=IDS)
def test_the_numpy_kernel_computes_the_plain_rule_bit_for_bit_in_place(case, dtype):
    """At each step whose options are the configuration's, the kernel writes the plain rule's values into the
    very arrays it is given (views of one flat storage), leaves grad as it was, and returns True; at a step
    of another configuration (SGD's first step, RAdam's rectification) it returns False and changes nothing."""
    cls, present, arguments, opt, group = case
    rule_trace, kernel = _numpy_kernel(case)
    assert kernel is not None
    ran = 0
    for step in STEPS:
        n = opt.rule_arguments(group, step, new_state=step == 1)
        arrays = _inputs(cls, present, opt, group, dtype, seed=step)
        assert not any(np.isnan(a).any() for a in arrays.values())
        storage, views = _in_storage(arrays, rule_trace.elements)
        before = storage.copy()
        work = _work(kernel, views["param"])
        if options_of(n) != options_of(arguments):
            assert kernel.function(n, work, *views.values()) is False
            np.testing.assert_array_equal(storage, before)
            assert all(np.isnan(w).all() for w in work)
            continue
        expected = _plain(cls, present, n, arrays)
        assert kernel.function(n, work, *views.values()) is True
        ran += 1
        for name in expected:
            assert not np.isnan(expected[name]).any(), name
            assert views[name].dtype == dtype and np.shares_memory(views[name], storage)
            np.testing.assert_array_equal(views[name], expected[name], err_msg=f"step {step}: {name}")
        np.testing.assert_array_equal(views["grad"], arrays["grad"])
    assert ran


def test_the_numpy_kernel_refuses_other_options_and_numpy_numbers_and_touches_nothing():
    """With any one option flipped, or any number it reads given as an np.float64 (which makes the plain rule
    compute a float32 step in float64), the kernel returns False and leaves every array as it was."""
    for case in CONFIGURATIONS:
        cls, present, arguments, opt, group = case
        rule_trace, kernel = _numpy_kernel(case)
        arrays = _inputs(cls, present, opt, group, np.float32)
        views = {name: arrays[name].copy() for name in rule_trace.elements}
        work = _work(kernel, views["param"])
        read = set(re.findall(r"= n\['(\w+)'\]", kernel.source))           # the numbers it reads
        changed = [(option, not value) for option, value in options_of(arguments)] + \
                  [(number, np.float64(arguments[number])) for number in read]
        for key, value in changed:
            assert kernel.function(dict(arguments, **{key: value}), work, *views.values()) is False, \
                (cls.__name__, key)
            for name in rule_trace.elements:
                np.testing.assert_array_equal(views[name], arrays[name])
            assert all(np.isnan(w).all() for w in work)


def test_the_numpy_kernel_reuses_its_work_arrays():
    """Two consecutive calls with the same work arrays give what two calls with fresh ones give, bit for bit."""
    for case in CONFIGURATIONS:
        cls, present, arguments, opt, group = case
        rule_trace, kernel = _numpy_kernel(case)
        arrays = _inputs(cls, present, opt, group, np.float32)
        reused = {name: arrays[name].copy() for name in rule_trace.elements}
        fresh = {name: arrays[name].copy() for name in rule_trace.elements}
        work = _work(kernel, arrays["param"])
        for _ in range(2):
            assert kernel.function(arguments, work, *reused.values())
            assert kernel.function(arguments, _work(kernel, arrays["param"]), *fresh.values())
        for name in rule_trace.outputs:
            np.testing.assert_array_equal(reused[name], fresh[name], err_msg=f"{cls.__name__}: {name}")


def test_the_numpy_kernel_makes_one_ufunc_call_per_element_operation():
    """The body is the trace's element operations, one ufunc call each with out=, and the number operations
    as Python arithmetic; ``np.copyto`` only where an output's new value is an input (SGD's first step:
    the momentum buffer is g), so every other output is computed straight into its own array."""
    for case in CONFIGURATIONS:
        rule_trace, kernel = _numpy_kernel(case)
        lines = [line.strip() for line in kernel.source.splitlines()]
        calls = [line for line in lines if line.startswith("np.") and not line.startswith("np.copyto(")]
        assert len(calls) == sum(o.result.is_element for o in rule_trace.operations)
        assert all(line.endswith(")") and ", out=" in line for line in calls)
        copies = sorted(line for line in lines if line.startswith("np.copyto("))
        assert copies == sorted(f"np.copyto({name}, {value.name})" for name, value in rule_trace.outputs.items()
                                if value.name in rule_trace.elements and value.name != name)
    sgd_momentum = next(c for c in CONFIGURATIONS if c[0] is optim.SGD and dict(options_of(c[2])) == dict(
        has_momentum=True, has_weight_decay=False, maximize=False, nesterov=False, new_buffer=False))
    adam = next(c for c in CONFIGURATIONS if c[0] is optim.Adam and not any(v for _, v in options_of(c[2])))
    for case, ufuncs in ((sgd_momentum, 5), (adam, 12)):
        assert _numpy_kernel(case)[1].source.count("out=") == ufuncs


def _late_read(param, grad, buf, *, lr):
    """buf's new value comes before its old value is last read: computed aside, copied in at the end."""
    new_buf = lr * grad
    return param - lr * buf, new_buf


def _shared(param, grad, buf, *, lr):
    """buf's new value is param's: computed into param, copied into buf at the end."""
    new = param - lr * grad
    return new, new


def _copy_late(param, grad, buf, *, lr):
    """buf's new value is g, copied in once param's step has read buf's old value."""
    return param - lr * buf, grad


def _unchanged(param, grad, buf, *, lr):
    """buf stays as it is: never written."""
    return param - lr * buf, buf


@pytest.mark.parametrize("rule, copies", [(_late_read, 1), (_shared, 1), (_copy_late, 1), (_unchanged, 0)],
                         ids=["late-read", "shared", "copy-late", "unchanged"])
def test_the_numpy_kernel_writes_an_output_only_once_its_old_value_is_dead(rule, copies):
    """Orders of reads and writes no optimizer's rule has (yet), against the rule run on NumPy arrays."""
    arguments = {"lr": 0.1}
    rule_trace = trace(rule, ("buf",), (True,), arguments)
    kernel = kernel_source.numpy_kernel(rule_trace, ())
    assert kernel.source.count("np.copyto(") == copies
    rng = np.random.default_rng(0)
    arrays = {name: rng.standard_normal(257).astype(np.float32) for name in ("param", "grad", "buf")}
    expected = rule(*[a.copy() for a in arrays.values()], **arguments)
    views = {name: a.copy() for name, a in arrays.items()}
    assert kernel.function(arguments, _work(kernel, arrays["param"]), *views.values()) is True
    np.testing.assert_array_equal(views["param"], expected[0])
    np.testing.assert_array_equal(views["buf"], expected[1])
    np.testing.assert_array_equal(views["grad"], arrays["grad"])


def test_the_numpy_kernel_declines_what_it_cannot_write():
    """None where an output's new value is the old value of an array it writes, or a number's name is taken."""
    def swaps(param, grad, buf, *, lr):
        return buf, param

    def takes_n(param, grad, *, n):
        return (param - n * grad,)

    assert kernel_source.numpy_kernel(trace(swaps, ("buf",), (True,), {"lr": 0.1}), ()) is None
    assert kernel_source.numpy_kernel(trace(takes_n, (), (), {"n": 0.1}), ()) is None
