"""What the commands share: options, checks that turn misuse into one clear line, progress, output folders."""

import argparse
import contextlib
import math
import os
import signal
import sys
import tempfile

from minigrad import datasets
from minigrad._extras import install_hint
from minigrad.training.trainer import ACTIVATIONS, OPTIMIZERS, SCHEDULES, TrainConfig


class UsageError(Exception):
    """Bad command-line input: printed as one line, exit status 2."""


MIN_SAMPLES = 8          # enough for a train/test split with a few samples on each side


def _number(text, kind=float):
    try:
        return kind(text)
    except ValueError:
        raise UsageError(f"expected {'an integer' if kind is int else 'a number'}, got {text!r}") from None


def positive_float(text):
    value = _number(text)
    if not (math.isfinite(value) and value > 0):
        raise UsageError(f"the learning rate must be a finite number > 0, got {text}")
    return value


def positive_number(text):
    value = _number(text)
    if not (math.isfinite(value) and value > 0):
        raise UsageError(f"expected a finite number > 0, got {text}")
    return value


def non_negative_float(text):
    value = _number(text)
    if not (math.isfinite(value) and value >= 0):
        raise UsageError(f"expected a finite number >= 0, got {text}")
    return value


def at_least(minimum, what):
    """An argparse type: an integer >= ``minimum``."""
    def parse(text):
        value = _number(text, int)
        if value < minimum:
            raise UsageError(f"{what} must be at least {minimum}, got {value}")
        return value
    return parse


def float_list(text):
    return at_least_one([positive_float(part) for part in text.split(",") if part.strip()], text)


def name_list(choices):
    def parse(text):
        names = at_least_one([part.strip() for part in text.split(",") if part.strip()], text)
        unknown = [n for n in names if n not in choices]
        if unknown:
            raise UsageError(f"unknown choice {unknown[0]!r} (choose from {', '.join(choices)})")
        return names
    return parse


def at_least_one(values, text):
    """A comma-separated option's values; none (``--lrs ,``) is refused, argparse naming the option."""
    if not values:
        raise argparse.ArgumentTypeError(f"expected at least one value, got {text!r}")
    return values


def int_list(text):
    try:
        sizes = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise UsageError(f"expected comma-separated integers, got {text!r}") from None
    if any(n < 1 for n in sizes):
        raise UsageError(f"hidden layer sizes must be positive, got {text!r}")
    return sizes


def device_name(text):
    """A device for --device: cpu, cuda, cuda:N, or the strict test devices (which stand in for GPUs)."""
    if text in ("cpu", "cuda", "strict:1", "strict:2") or (text.startswith("cuda:") and text[5:].isdigit()):
        return text
    raise argparse.ArgumentTypeError(f"invalid device {text!r} (choose cpu, cuda, cuda:N, strict:1 or strict:2)")


def add_data_arguments(parser, seed=True, device=True):
    """The options that describe the data and the model (every command that builds one; sweep has --seeds and
    runs on the CPU's cores)."""
    parser.add_argument("--dataset", default="spiral", choices=list(datasets.REGISTRY), help="built-in data set")
    parser.add_argument("--samples", type=at_least(MIN_SAMPLES, "--samples"), default=None,
                        help="samples to generate (default 1500; not for iris and digits, which have a fixed size)")
    parser.add_argument("--hidden", type=int_list, default=(64, 64), help="hidden layer sizes, comma-separated")
    parser.add_argument("--activation", default="relu", choices=list(ACTIVATIONS), help="the hidden layers' activation")
    parser.add_argument("--batch-size", type=at_least(1, "--batch-size"), default=32, help="samples per step")
    if device:
        parser.add_argument("--device", type=device_name, default="cpu",
                            help="where to train: cpu, cuda or cuda:N (needs CuPy), or a strict test device strict:1|2")
    if seed:
        parser.add_argument("--seed", type=at_least(0, "--seed"), default=0,
                            help="seeds the data, the initial weights and the shuffles")


def add_optimizer_arguments(parser, default="adam", help="the update rule"):  # noqa: A002 - argparse's name
    """The optimizer's options (train, compare, lr-find)."""
    parser.add_argument("--optimizer", default=default, choices=list(OPTIMIZERS), help=help)
    parser.add_argument("--weight-decay", type=non_negative_float, default=0.0, help="L2 penalty (decoupled for adamw)")


def add_jit_argument(parser):
    """--jit: the trainer's step recorded once and replayed (train, compare, sweep)."""
    parser.add_argument("--jit", action="store_true",
                        help="record the training step once and replay it (minigrad.jit; same results, faster)")


def add_training_arguments(parser, epochs=150):
    """The options of a training run's course (train, compare)."""
    parser.add_argument("--lr", type=positive_float, default=None,
                        help="learning rate η (default: the optimizer's own, e.g. 0.01 for adam)")
    parser.add_argument("--schedule", default="cosine", choices=list(SCHEDULES), help="how η changes over the run")
    parser.add_argument("--epochs", type=at_least(1, "--epochs"), default=epochs, help="passes over the training set")
    parser.add_argument("--clip-grad", type=positive_number, default=None, metavar="MAX_NORM",
                        help="clip the gradients' total 2-norm to MAX_NORM before each step (default: no clipping)")


def add_tensorboard_argument(parser):
    parser.add_argument("--tensorboard", metavar="DIR", default=None,
                        help="also log loss, accuracy, η, gradient norms and effective-η histograms for TensorBoard "
                             "into DIR (needs the tensorboard extra; default: no logging)")


def check_tensorboard(args):
    """--tensorboard without the tensorboardX package, or into a place where no folder can be written: a
    UsageError before any work."""
    if getattr(args, "tensorboard", None) is not None:
        try:
            import tensorboardX  # noqa: F401
        except ImportError:
            raise UsageError(f"--tensorboard needs the tensorboardX package: {install_hint('tensorboard')}") from None
        check_writable_folder(args.tensorboard, "--tensorboard")


def check_writable_folder(path, option):
    """Refuse ``path`` when it is a file, lies below one, or cannot be written, leaving nothing behind: a probe
    folder is made and removed in ``path`` or, when it does not exist yet, in its nearest existing parent."""
    existing = os.path.abspath(path)
    while not os.path.lexists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise UsageError(f"{option} {path}: {existing!r} is a file, not a folder")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".minigrad-write-test-", dir=existing))
    except OSError as exc:
        raise UsageError(f"{option} {path}: cannot write to {existing!r} ({exc.strerror})") from None


def tensorboard_writer(args, run_name=None):
    """A SummaryWriter for --tensorboard (into DIR/run_name when given), or None; a UsageError without the package."""
    if args.tensorboard is None:
        return None
    from minigrad.utils.tensorboard import SummaryWriter

    try:
        return SummaryWriter(args.tensorboard if run_name is None else os.path.join(args.tensorboard, run_name))
    except ImportError as exc:
        raise UsageError(str(exc)) from None


def add_output_arguments(parser, out, resume=False):
    """--out and --force (and --resume where a run can be continued)."""
    parser.add_argument("--out", default=out, help="output folder")
    parser.add_argument("--force", action="store_true", help="overwrite the outputs of an earlier run in --out")
    if resume:
        parser.add_argument("--resume", action="store_true", help="continue the run saved in OUT/checkpoint.safetensors")


def config_from(args, **overrides):
    if args.samples is not None and args.dataset in datasets.FIXED_SIZE and not getattr(args, "_noted", False):
        print(f"minigrad: note: --samples is ignored for {args.dataset}, which has a fixed size", file=sys.stderr)
        args._noted = True                               # once per command, however many runs it makes
    samples = 1500 if args.samples is None else args.samples
    check_dataset(args.dataset)
    check_model_size(args.hidden)
    if args.dataset not in datasets.FIXED_SIZE:
        check_data_size(samples, args.hidden)
    values = dict(dataset=args.dataset, n_samples=samples, hidden=args.hidden, activation=args.activation,
                  batch_size=args.batch_size, device=getattr(args, "device", "cpu"), seed=getattr(args, "seed", 0))
    for option in ("optimizer", "lr", "schedule", "epochs", "weight_decay", "clip_grad", "jit"):
        if hasattr(args, option):                        # a command that does not offer it keeps the default
            values[option] = getattr(args, option)
    values.update(overrides)
    try:
        config = TrainConfig(**values)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    check_device(config.device)
    return config


def check_dataset(name):
    if name == "digits":
        try:
            import sklearn  # noqa: F401
        except ImportError:
            raise UsageError(f"the digits dataset needs scikit-learn: {install_hint('digits')} "
                             "(or choose spiral, moons, circles, xor, blobs, sine or iris)") from None


def check_model_size(hidden, largest_input=64, largest_output=10):
    """Refuse hidden sizes whose parameters, gradients and Adam state could not fit in memory."""
    sizes = [largest_input, *hidden, largest_output]
    floats = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    needed = floats * 4 * 4                              # float32 values, gradients and two state arrays
    available = _memory()
    if needed > available // 2:
        raise UsageError(f"--hidden {','.join(map(str, hidden))} needs about {needed / 2 ** 30:.1f} GiB for parameters, "
                         f"gradients and optimizer state; this machine has {available / 2 ** 30:.1f} GiB")


def check_data_size(samples, hidden):
    """Refuse a generated data set that could not fit in memory, before any of it is allocated."""
    per_sample = 16 * 8 + 3 * 4 * max(hidden, default=1)  # generating it in float64; evaluating all of it at once
    needed = samples * per_sample
    available = _memory()
    if needed > available // 2:
        raise UsageError(f"--samples {samples} needs about {needed / 2 ** 30:.1f} GiB for the data and the activations "
                         f"of evaluating it; this machine has {available / 2 ** 30:.1f} GiB")


def _memory():
    """The machine's memory in bytes (16 GiB where the system does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 16 * 2 ** 30


def check_device(device):
    if device == "cuda":
        from minigrad.backend import devices

        try:
            _ = devices.device("cuda").backend
        except RuntimeError as exc:
            raise UsageError(str(exc)) from None


def output_folder(args, continuing=False):
    """Create ``args.out`` (and parents) and check it can be written, or raise a UsageError naming it.

    A folder that already holds files is another run's outputs: it is used only with ``--force``
    (overwrite), ``--resume`` or when the command is ``continuing`` what is there (a sweep's re-run).
    """
    path = args.out
    resumable = hasattr(args, "resume")
    if os.path.isdir(path) and not (args.force or continuing or getattr(args, "resume", False)) \
            and any(not name.startswith(".") for name in os.listdir(path)):
        raise UsageError(f"the output folder {path!r} already holds a run's outputs; pass "
                         f"{'--resume to continue it, ' if resumable else ''}--force to overwrite them, "
                         "or choose another --out")
    try:
        os.makedirs(path, exist_ok=True)
        probe = os.path.join(path, ".minigrad-write-test")
        with open(probe, "w") as f:
            f.write("")
        os.remove(probe)
    except OSError as exc:
        raise UsageError(f"cannot write to the output folder {path!r}: {exc.strerror}") from None
    return path


def draws_figures(args):
    """Whether the command draws its figures: not with --no-plots, and not without matplotlib (a plain
    ``pip install``), which a one-line note says before any work; the command then does everything else."""
    if getattr(args, "no_plots", False):
        return False
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        skip = " (--no-plots skips them without this note)" if hasattr(args, "no_plots") else ""
        print(f"minigrad: note: matplotlib is not installed, so no figures are drawn: {install_hint('viz')} "
              f"draws them{skip}", file=sys.stderr)
        args.no_plots = True
        return False
    return True


def progress_bar(total, description):
    """A callable(epoch, total, record) showing progress on stderr: on a terminal, a tqdm bar when tqdm is
    installed, else a plain line updated in place; into a file or pipe (a log), a plain line every tenth of
    the run, never a bar's updates."""
    try:
        from tqdm import tqdm
    except ImportError:
        tqdm = None
    if not sys.stderr.isatty():
        tqdm = None
    if tqdm is not None:
        bar = tqdm(total=total, desc=description, unit="epoch", dynamic_ncols=True, leave=True)

        def update(epoch, _total, record):
            bar.update(epoch - bar.n)
            bar.set_postfix(loss=f"{record['loss']:.4f}", acc=pct(record["acc"]), lr=f"{record['lr']:.2e}")
            if epoch >= _total:
                bar.close()

        update.close = bar.close
        return update

    def plain(epoch, total_epochs, record):
        line = (f"{description}: epoch {epoch}/{total_epochs}  loss {record['loss']:.4f}  acc {pct(record['acc'])}  "
                f"η {record['lr']:.2e}")
        if sys.stderr.isatty():
            print(line, end="\n" if epoch >= total_epochs else "\r", file=sys.stderr)
        elif epoch == total_epochs or epoch % max(1, total_epochs // 10) == 0:
            print(line, file=sys.stderr)

    plain.close = lambda: None
    return plain


def pct(acc):
    """An accuracy as a percentage, or "-" for regression."""
    return "-" if acc is None else f"{100 * acc:.1f}%"


@contextlib.contextmanager
def handling(signals, handler):
    """``handler`` answers these signals inside the block; the previous handlers come back after it."""
    try:
        previous = {s: signal.signal(s, handler) for s in signals}
    except ValueError:                                   # not the main thread: leave the signals alone
        previous = {}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
