from preparedness.access import access_for, may_edit_in_area


def test_official_scope_covers_communes_of_their_province(users):
    """An official of province 07 is in scope for commune 070101 and not for 080101."""
    official = users["official_07"]
    assert may_edit_in_area(official, "070101")
    assert may_edit_in_area(official, "0701")
    assert not may_edit_in_area(official, "080101")
    assert not may_edit_in_area(official, "12")


def test_nationwide_roles_read_everywhere_but_do_not_edit_schools(users):
    """Coordinators and planners read every area but edit no school records."""
    for name in ("coordinator", "planner"):
        assert access_for(users[name]).covers("080101")
        assert not may_edit_in_area(users[name], "080101")
    assert may_edit_in_area(users["admin"], "080101")


def test_anonymous_has_no_role(db):
    from django.contrib.auth.models import AnonymousUser

    assert not access_for(AnonymousUser()).authenticated
    assert not may_edit_in_area(AnonymousUser(), "070101")
