"""folium's rendered output is kept as text instead of being compiled again as a
Jinja template: the map page must come out exactly as Jinja would make it."""

import jinja2
from branca.element import Element
from hypothesis import example, given
from hypothesis import strategies as st

from maps.render import element_template

# Any text, with the characters Jinja treats specially over-represented.
texts = st.text(
    alphabet=st.one_of(st.sampled_from("{}%#\r\n \t-+<>\"'សាលា"), st.characters()),
    max_size=80,
)


@given(texts)
@example("<script>\n  var a = {b: 1};\n</script>\n")
@example("a\r\nb\r")
@example("100% { width } #x\n\n")
def test_an_element_renders_as_jinja_would(source):
    try:
        jinja2.Template(source)
    except jinja2.TemplateSyntaxError:
        return  # not a template: branca could not have made it either
    expected = jinja2.Template(source).render(this=None, kwargs={})
    assert element_template(source).render(this=None, kwargs={}) == expected


def test_a_real_template_is_still_a_template_and_compiled_once():
    source = "<b>{{ this.value }}</b>{# note #}{% if true %}!{% endif %}"
    assert element_template(source) is element_template(source)
    assert element_template(source).render(this={"value": "សាលា"}) == "<b>សាលា</b>!"


def test_branca_elements_use_it():
    element = Element("<script>var x = 1;</script>\r\n")
    assert element.render() == "<script>var x = 1;</script>"
    assert Element("{{ 1 + 1 }}").render() == "2"
