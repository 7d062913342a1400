"""The app's heavy imports, done once per server process with Python's cyclic garbage collector
paused, then frozen (``app.py`` imports this module first), and the trade-off page's judge, fitted by
the server's warm-up (``app.warm_up``).

torch and matplotlib make hundreds of thousands of long-lived objects when imported. With the
collector running, a fresh server's first page paid for collections during those imports that could
free nothing, and for full collections soon after that walked every one of those objects again:
380 ms of collections in a 3.1 s first run on 2 cores. Paused imports and ``gc.freeze()`` (which
moves what exists after them out of the collector's sight) cut that first run by ~0.37 s
(benchmarks/RESULTS.md); later collections only walk what the pages create.
"""

import gc

gc.disable()
try:
    import matplotlib.figure  # noqa: F401
    import torch  # noqa: F401

    import ui.run_cache  # noqa: F401  (the models, samplers and the run caches)
    import ui.view_cache  # noqa: F401  (every view and the picture caches)
    import ui.views  # noqa: F401
    from models.engine.data import DATA_NAMES
    from models.analysis.metrics import reference_classifier
    from models.analysis.tradeoff import data_reference
finally:
    gc.enable()
# Frozen as they are: a full collection first would free the imports' own cyclic garbage (~8,600
# objects, ~1 MB, no change in RSS), but it walks all ~370,000 objects to find it, ~0.3 s on the
# first page's path (benchmarks/RESULTS.md).
gc.freeze()


def warm_trade_off() -> None:
    """What the trade-off page's first visit needs besides its own sampling, for every data set (both
    cached for the process): the judge (``models.analysis.metrics.reference_classifier``, an RBF SVC, whose
    first call imports scikit-learn's SVC: ~1.1 s and ~140 MB with scipy and pandas, several seconds
    on a busy machine) and the data's own scores (``models.analysis.tradeoff.data_reference``: a few tenths of a second, the
    distances between all training points). The server's warm-up (``app.warm_up``) calls this in
    the background once it has run the first page."""
    for data in DATA_NAMES:
        reference_classifier(data)
        data_reference(data)
