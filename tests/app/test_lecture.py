"""The lecture page under AppTest: Back and Next walk the whole deck, each slide its own picture, and Play
animates each slide with its own GIF."""

from viz.figures.lecture import SLIDES

from tests.apptest import image_urls, page_app


def test_lecture_next_and_back_walk_the_whole_deck():
    at = page_app("pages/lecture.py")
    assert "lecture_slide" not in at.session_state or at.session_state["lecture_slide"] == 0
    assert at.title[0].value == SLIDES[0].title
    assert at.button(key="lecture_back").disabled
    seen = [image_urls(at)[0]]
    for i in range(1, len(SLIDES)):
        at.button(key="lecture_next").click().run()
        assert not at.exception and not at.error, (SLIDES[i].key, at.exception, at.error)
        assert at.session_state["lecture_slide"] == i and at.title[0].value == SLIDES[i].title
        seen.append(image_urls(at)[0])
    assert len(set(seen)) == len(SLIDES)  # every slide its own picture
    assert at.button(key="lecture_next").disabled
    at.button(key="lecture_back").click().run()
    assert at.session_state["lecture_slide"] == len(SLIDES) - 2 and at.title[0].value == SLIDES[-2].title
    assert image_urls(at)[0] == seen[-2]


def test_lecture_play_animates_each_slide_with_its_own_gif():
    at = page_app("pages/lecture.py", steps=6)
    at.toggle(key="play").set_value(True).run()
    played = []
    for i, slide in enumerate(SLIDES):
        if i:
            at.button(key="lecture_next").click().run()
        assert not at.exception and not at.error, (slide.key, at.exception, at.error)
        url = image_urls(at)[0]
        assert url.startswith("data:image/gif;"), (slide.key, url[:60])
        played.append(url)
    assert len(set(played)) == len(SLIDES)  # a data URL is its bytes: every slide plays its own animation
