"""Research features, kept apart from the model (in the manner of Mesa's ``experimental``):
they read a run's results and never feed the model.

* ``published``: other authors' published reconstructions beside the model's results;
* ``doctrine``: the doctrine lens, how far a run stood from the texts, axis by axis
  (``doctrine_plot`` draws it).

Their data stay in ``sovsim/data/published`` and ``sovsim/data/doctrine``.
"""
