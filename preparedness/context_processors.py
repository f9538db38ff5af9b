"""Template context: the current user's role and scope."""

from django.http import HttpRequest

from preparedness.access import Access, access_for


def access(request: HttpRequest) -> dict[str, Access]:
    return {"access": access_for(getattr(request, "user", None))}
