"""Template filters for Khmer text: `{{ text|khmer_breaks }}` for printed pages."""

from django import template

from preparedness.text import khmer_line_breaks

register = template.Library()


@register.filter
def khmer_breaks(value: object) -> str:
    """Let Khmer text wrap between words (zero-width spaces from a word segmenter)."""
    return khmer_line_breaks(str(value)) if value else ""
