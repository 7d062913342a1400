"""Classroom mode: the post's figures one per screen, with Back and Next, in large type for a projector."""

import streamlit as st

from ui.lecture import slide_picture, slide_spec
from ui.sidebar import current
from ui.views import model_for, play_toggle
from viz.lecture import SLIDES

POSITION = "lecture_slide"
LARGE_TYPE = """
<style>
.st-key-lecture h1 { font-size: 3.1rem; line-height: 1.15; padding-bottom: 0.2rem; }
.st-key-lecture [data-testid="stMarkdownContainer"] p { font-size: 1.7rem; line-height: 1.45; }
</style>
"""


def move(by: int) -> None:
    """Go ``by`` slides forward (or back), staying inside the deck."""
    st.session_state[POSITION] = min(max(st.session_state.get(POSITION, 0) + by, 0), len(SLIDES) - 1)


s = current()
st.markdown(LARGE_TYPE, unsafe_allow_html=True)
i = min(max(int(st.session_state.get(POSITION, 0)), 0), len(SLIDES) - 1)
slide = SLIDES[i]
back, where, play_box, forward = st.columns([1, 4, 1.3, 1], vertical_alignment="center")
back.button("◀ Back", key="lecture_back", on_click=move, args=(-1,), disabled=i == 0, width="stretch")
where.progress((i + 1) / len(SLIDES), text=f"{i + 1} / {len(SLIDES)}")
with play_box:
    play = play_toggle()
forward.button("Next ▶", key="lecture_next", on_click=move, args=(1,), disabled=i == len(SLIDES) - 1, width="stretch",
               type="primary")

with st.container(key="lecture"):
    st.title(slide.title)
    st.markdown(slide.text)
    spec = slide_spec(s, slide, model_for(s, slide.guidance))
    _, middle, _ = st.columns([1, 6, 1])
    try:
        middle.image(slide_picture(slide, spec, s.projection, play), width="stretch",
                     output_format="GIF" if play and slide.figure != "overlay" else "PNG")
    except ValueError as e:
        middle.error(f"This figure cannot be drawn: {e}")
