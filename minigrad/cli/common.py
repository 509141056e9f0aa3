"""What the commands share: options, checks that turn misuse into one clear line, progress, output folders."""

import math
import os
import sys

from minigrad import datasets
from minigrad.trainer import ACTIVATIONS, OPTIMIZERS, SCHEDULES, TrainConfig


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
    return [positive_float(part) for part in text.split(",") if part.strip()]


def name_list(choices):
    def parse(text):
        names = [part.strip() for part in text.split(",") if part.strip()]
        unknown = [n for n in names if n not in choices]
        if unknown:
            raise UsageError(f"unknown choice {unknown[0]!r} (choose from {', '.join(choices)})")
        return names
    return parse


def int_list(text):
    try:
        sizes = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise UsageError(f"expected comma-separated integers, got {text!r}") from None
    if any(n < 1 for n in sizes):
        raise UsageError(f"hidden layer sizes must be positive, got {text!r}")
    return sizes


def add_model_arguments(parser, epochs=150):
    """The options that describe a training run (shared by train, compare, lr-find, graph)."""
    parser.add_argument("--dataset", default="spiral", choices=list(datasets.REGISTRY), help="built-in data set")
    parser.add_argument("--samples", type=at_least(MIN_SAMPLES, "--samples"), default=None,
                        help="samples to generate (default 1500; not for iris and digits, which have a fixed size)")
    parser.add_argument("--hidden", type=int_list, default=(64, 64), help="hidden layer sizes, e.g. 64,64")
    parser.add_argument("--activation", default="relu", choices=list(ACTIVATIONS))
    parser.add_argument("--optimizer", default="adam", choices=list(OPTIMIZERS))
    parser.add_argument("--lr", type=positive_float, default=None, help="learning rate η (default: per optimizer)")
    parser.add_argument("--schedule", default="cosine", choices=list(SCHEDULES))
    parser.add_argument("--epochs", type=at_least(1, "--epochs"), default=epochs)
    parser.add_argument("--batch-size", type=at_least(1, "--batch-size"), default=32)
    parser.add_argument("--weight-decay", type=non_negative_float, default=0.0)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--seed", type=at_least(0, "--seed"), default=0)
    parser.add_argument("--clip-grad", type=positive_number, default=None, metavar="MAX_NORM",
                        help="clip the gradients' total 2-norm to MAX_NORM before each step")


def config_from(args, **overrides):
    if args.samples is not None and args.dataset in datasets.FIXED_SIZE and not getattr(args, "_noted", False):
        print(f"minigrad: note: --samples is ignored for {args.dataset}, which has a fixed size", file=sys.stderr)
        args._noted = True                               # once per command, however many runs it makes
    samples = 1500 if args.samples is None else args.samples
    check_dataset(args.dataset)
    check_model_size(args.hidden)
    values = dict(dataset=args.dataset, n_samples=samples, hidden=args.hidden, activation=args.activation,
                  optimizer=args.optimizer, lr=args.lr, schedule=args.schedule, epochs=args.epochs,
                  batch_size=args.batch_size, weight_decay=args.weight_decay, device=args.device, seed=args.seed,
                  clip_grad=args.clip_grad)
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
            raise UsageError("the digits dataset needs scikit-learn: pip install \"minigrad[digits]\" "
                             "(or choose spiral, moons, circles, xor, blobs, sine or iris)") from None


def check_model_size(hidden, largest_input=64, largest_output=10):
    """Refuse hidden sizes whose parameters, gradients and Adam state could not fit in memory."""
    sizes = [largest_input, *hidden, largest_output]
    floats = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    needed = floats * 4 * 4                              # float32 values, gradients and two state arrays
    try:
        available = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        available = 16 * 2 ** 30
    if needed > available // 2:
        raise UsageError(f"--hidden {','.join(map(str, hidden))} needs about {needed / 2 ** 30:.1f} GiB for parameters, "
                         f"gradients and optimizer state; this machine has {available / 2 ** 30:.1f} GiB")


def check_device(device):
    if device == "cuda":
        from minigrad.backend import devices

        try:
            _ = devices.device("cuda").backend
        except RuntimeError as exc:
            raise UsageError(str(exc)) from None


def output_folder(path):
    """Create ``path`` (and parents) and check it can be written, or raise a UsageError naming it."""
    try:
        os.makedirs(path, exist_ok=True)
        probe = os.path.join(path, ".minigrad-write-test")
        with open(probe, "w") as f:
            f.write("")
        os.remove(probe)
    except OSError as exc:
        raise UsageError(f"cannot write to the output folder {path!r}: {exc.strerror}") from None
    return path


def progress_bar(total, description):
    """A tqdm bar when tqdm is installed, else a plain line updated in place; a callable(epoch, total, record)."""
    try:
        from tqdm import tqdm
    except ImportError:
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
