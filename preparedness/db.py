"""Database functions the ORM does not name, as small declarative Func classes."""

from django.db import models


class SearchKey(models.Func):
    """Immutable, case- and zero-width-insensitive search key of one or more names.

    Mirrors `preparedness.text.search_key` so a key typed by a user matches the
    stored one; usable in a GeneratedField.
    """

    arity = None
    output_field = models.TextField()

    def as_sql(self, compiler, connection, **extra_context):
        parts = []
        params: list[object] = []
        for expression in self.get_source_expressions():
            sql, p = compiler.compile(expression)
            parts.append(f"coalesce({sql}, '')")
            params.extend(p)
        joined = "(" + " || ' ' || ".join(parts) + ")"
        # normalize() is the costly step: skip it for text already in NFC.
        nfc = (
            f"CASE WHEN {joined} IS NFC NORMALIZED THEN {joined} "
            f"ELSE normalize({joined}, NFC) END"
        )
        sql = (
            f"lower(btrim(regexp_replace(translate({nfc}, "
            "U&'\\200B\\200C\\200D\\2060\\FEFF\\00AD', ''), "
            "'\\s+', ' ', 'g')))"
        )
        return sql, params * 3
