"""Domain errors shared by every app that the API and pages turn into answers."""


class Conflict(Exception):
    """Someone else changed the record since it was read: HTTP 409, nothing saved."""
