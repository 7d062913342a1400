"""The sampling page under AppTest: conditional sampling, the build-up stage, the sampler and the seed each
change what they should (a new run, or only a new picture)."""

from tests.apptest import app, image_urls


def test_sampling_page_widgets(sample_calls):
    at = app()
    urls, n = image_urls(at), len(sample_calls)
    at.checkbox(key="conditional").check().run()  # conditional sampling: a new run
    assert len(sample_calls) == n + 1 and sample_calls[-1].label == 0 and sample_calls[-1].guidance == "none"
    at.radio(key="build").set_value("prediction").run()  # build-up stage: a different picture, same run
    assert len(sample_calls) == n + 1 and image_urls(at)[1] != urls[1]
    at.selectbox(key="sampler").set_value("ddim").run()
    assert sample_calls[-1].sampler == "ddim"
    at.number_input(key="seed").set_value(3).run()
    assert sample_calls[-1].seed == 3
    assert not at.exception
