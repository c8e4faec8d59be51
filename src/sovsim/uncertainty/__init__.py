"""What the model does not know, and how much it matters (docs/calibration.md,
docs/sensitivity.md).

* ``calibrate``: the loss against the historical series and Powell's least squares;
* ``abc_smc``: likelihood-free calibration by ABC-SMC (pyabc), giving a ``posterior``;
* ``abc_rm``: ABC-SMC by resample-move;
* ``posterior``: the posterior sample, its draws, quantiles and file;
* ``checks``: the checks and the report of an ABC calibration;
* ``sensitivity``: Sobol indices of the headline outcomes;
* ``pool``: many independent model runs on local processes.

Import the module you need (``from sovsim.uncertainty import sensitivity``): each pulls in
heavy libraries of its own (pyabc, SALib), so this package re-exports nothing.
"""
