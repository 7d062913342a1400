"""The Streamlit glue of Guidance Lab: with ``app.py`` and ``pages/`` the only code that imports ``streamlit``.

* ``ui.runs``     the runs a page asks for as named specs (``models.pipeline.SampleSpec``) and the
                  command lines that repeat them (no Streamlit);
* ``ui.sidebar``  the shared sidebar and the settings every page reads;
* ``ui.cache``    Streamlit caches: models, trajectories, views and pictures, keyed on a spec;
* ``ui.views``    widgets and displays shared by pages (scrubber, play, one view, the run preamble);
* ``ui.zoo``      the guidance zoo's sliders, derived from ``models.settings``;
* ``ui.tradeoff`` the trade-off page's evaluation loop;
* ``ui.lecture``  the lecture's slides drawn through the caches;
* ``ui.preload``  the heavy imports, once per server process (``app.py`` imports it first).
"""
