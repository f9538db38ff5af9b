"""Domain errors shared by every app that the API and pages turn into answers."""


class Conflict(Exception):
    """Someone else changed the record since it was read: HTTP 409, nothing saved."""


def check_version(current: int, given: object, message: str) -> None:
    """Refuse a save made from a stale read: `given` must be the `current` version.

    `message` may name `%(theirs)s` (the current version) and `%(yours)s`.
    """
    if given is None or str(given) != str(current):
        raise Conflict(message % {"theirs": current, "yours": given})
