"""Tools for seeing and choosing the learning rate, beside the optimizers: ``guard`` (stop a diverging run),
``lr_finder`` (the range test), ``insight`` (the step size an optimizer applies) and ``surfaces`` (the 2-D loss
surfaces of the learning-rate guide). ``minigrad.optim`` re-exports the first three's names."""
