"""Draw the computation graph of a model's loss on one batch, to SVG, PNG or PDF (with matplotlib when Graphviz is missing)."""

from minigrad.cli.common import add_data_arguments, add_output_arguments, config_from, output_folder
from minigrad.training.trainer import Trainer
from minigrad.viz.graph import render_graph

HELP = "draw the computation graph of the model's loss"


def add_arguments(parser):
    add_data_arguments(parser)
    parser.add_argument("--format", default="svg", choices=["svg", "png", "pdf"], help="the picture's file format")
    add_output_arguments(parser, "runs/graph")


def run(args):
    config = config_from(args)
    out = output_folder(args)
    trainer = Trainer(config)
    x, y = next(iter(trainer.loader))
    loss = trainer.loss_fn(trainer.model(x), y)
    path, message = render_graph(loss, f"{out}/graph", dict(trainer.model.named_parameters()), format=args.format)
    print(f"wrote {path}")
    if message:
        print(f"note: {message}")
    return 0
