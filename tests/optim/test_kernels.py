"""Every rule in every configuration its optimizer allows, traced with the step's numbers symbolic.

The tracer (``minigrad/accel/trace.py``) refuses Python control flow and conversions on
traced values, as ``cupy.fuse`` and JAX's tracers do, so a trace that succeeds proves the
rule branches only on its options. Each trace is then replayed with NumPy and must equal
the plain rule bit for bit; the CUDA kernel written from it is compiled as C++ with the
host compiler (the same source, ``T`` = float or double) and must agree bit for bit too.
"""

import ctypes
import inspect
import itertools
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
