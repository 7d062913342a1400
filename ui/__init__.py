"""The Streamlit glue of Guidance Lab: with ``app.py`` and ``pages/`` the only code that imports ``streamlit``.

* ``ui.runs``     the runs a page asks for as named specs (``models.engine.pipeline.SampleSpec``) and the
                  command lines that repeat them (no Streamlit);
* ``ui.sidebar``  the shared sidebar (data, noising path and shift, model, sampler, ...), the settings every
                  page reads and the page style;
* ``ui.state``    settings that follow the teacher from page to page (a shadow copy of each widget's value);
* ``ui.run_cache``  Streamlit caches of models and runs (trajectories, measured rows), keyed on a spec;
* ``ui.view_cache`` Streamlit caches of pictures (views, frames, GIFs, figures) drawn from those runs;
* ``ui.views``    widgets and displays shared by pages (the step scrubber, "step k of S", opening on a
                  readable step; play; the picture beside its controls; one view; the run preamble);
* ``ui.side_by_side`` the side-by-side page's two columns: two methods or γ, or the VP path beside the flow path;
* ``ui.zoo``      the guidance zoo's sliders, derived from the method cards (``models.guidance``);
* ``ui.tradeoff`` the trade-off page's evaluation loop;
* ``ui.lecture``  the lecture's slides drawn through the caches, and each slide's own build-up GIF;
* ``ui.preload``  the heavy imports, once per server process (``app.py`` imports it first).
"""
