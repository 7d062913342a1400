"""Classroom mode: the post's figures one per screen, with Back and Next, in large type for a projector."""

import streamlit as st

from ui.lecture import declared_width, slide_picture, slide_spec
from ui.sidebar import current
from ui.views import fitted_width, model_for, play_toggle, show_image
from viz.figures.lecture import SLIDES

POSITION = "lecture_slide"
# Large type beside the picture, and a picture never taller than the window leaves it (the page's top
# margin and the slide's buttons above, its bottom margin below: 13.5rem in all), whatever the window's
# width: every slide fits a 1920x1080 projector without scrolling, with the sidebar open or collapsed.
LARGE_TYPE = """
<style>
.st-key-lecture h1 { font-size: 2.7rem; line-height: 1.15; padding: 0 0 0.6rem 0; }
.st-key-lecture [data-testid="stMarkdownContainer"] p { font-size: 1.6rem; line-height: 1.45; }
.st-key-slide_picture [data-testid="stImage"] img { max-height: calc(100vh - 13.5rem); object-fit: contain; }
</style>
"""
TEXT_SHARE = 0.3  # the title and words beside the picture


def move(by: int) -> None:
    """Go ``by`` slides forward (or back), staying inside the deck."""
    st.session_state[POSITION] = min(max(st.session_state.get(POSITION, 0) + by, 0), len(SLIDES) - 1)


s = current()
st.html(LARGE_TYPE)
i = min(max(int(st.session_state.get(POSITION, 0)), 0), len(SLIDES) - 1)
slide = SLIDES[i]
back, where, play_box, forward = st.columns([1, 4, 1.3, 1], vertical_alignment="center")
back.button("◀ Back", key="lecture_back", on_click=move, args=(-1,), disabled=i == 0, width="stretch")
where.progress((i + 1) / len(SLIDES), text=f"{i + 1} / {len(SLIDES)}")
with play_box:
    play = play_toggle()
forward.button("Next ▶", key="lecture_next", on_click=move, args=(1,), disabled=i == len(SLIDES) - 1, width="stretch",
               type="primary")

words, picture = st.columns([TEXT_SHARE, 1 - TEXT_SHARE], gap="large")
with words, st.container(key="lecture"):
    st.title(slide.title)
    st.markdown(slide.text)
spec = slide_spec(s, slide, model_for(s, slide.guidance))
with picture, st.container(key="slide_picture"):
    try:
        show_image(slide_picture(slide, spec, s.projection, play, fitted_width(declared_width(slide), "width-lecture")))
    except ValueError as e:
        st.error(f"This figure cannot be drawn: {e}")
