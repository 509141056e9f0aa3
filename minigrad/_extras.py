"""What pip installs, as opposed to what Python imports: the one place that names the distribution.

The name "minigrad" on the package index belongs to another project, so this one
is distributed as ``minigrad-eta`` (η, the learning rate it is about) and
imported as ``minigrad``. Every message that asks for an optional extra (viz,
gpu, fast, digits, tensorboard, compare) builds its command here.
"""

DISTRIBUTION = "minigrad-eta"


def install_hint(extra):
    """The command that installs ``extra``, from the package index or from a checkout.

    Example:
        >>> install_hint("viz")
        'pip install "minigrad-eta[viz]" (in a checkout: pip install ".[viz]")'
    """
    return f'pip install "{DISTRIBUTION}[{extra}]" (in a checkout: pip install ".[{extra}]")'
