"""Accounts: password reset by email and user management by administrators."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from preparedness.access import access_for
from preparedness.models import AdminArea, Membership
from preparedness.services import user_update
from tests.factories import make_user

Role = Membership.Role
User = get_user_model()


def mailed_link(message) -> str:
    """The path of the one password link in an email."""
    (path,) = re.findall(r"http://testserver(/accounts/reset/\S+/\S+/)", message.body)
    return path


def set_password_through(client, link: str, password: str):
    """Follow an emailed link and choose a password; returns the final response."""
    response = client.get(link, follow=True)
    assert response.context["validlink"], "the emailed link should be valid"
    set_password_url = response.redirect_chain[-1][0]
    return client.post(
        set_password_url,
        {"new_password1": password, "new_password2": password},
        follow=True,
    )


# Password reset


def test_reset_request_for_a_known_email_sends_a_working_link(users, client):
    """One mail goes to the account's address; its link sets a new password."""
    planner = users["planner"]
    planner.email = "planner@example.org"
    planner.save()
    response = client.post(
        "/accounts/password_reset/", {"email": "PLANNER@example.org"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password_reset/done/"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["planner@example.org"]
    assert "SalaSafe" in mail.outbox[0].subject
    assert "your account on SalaSafe (testserver)" in mail.outbox[0].body

    response = set_password_through(
        client, mailed_link(mail.outbox[0]), "a-new-long-secret-77"
    )
    assert response.redirect_chain[-1][0] == "/accounts/reset/done/"
    assert client.login(username="planner", password="a-new-long-secret-77")
    assert not client.login(username="planner", password="pw-planner")


def test_reset_request_for_an_unknown_email_sends_nothing(db, client):
    """An unknown address gets the same answer and no mail (no account probing)."""
    response = client.post("/accounts/password_reset/", {"email": "who@example.org"})
    assert response["Location"] == "/accounts/password_reset/done/"
    assert mail.outbox == []


def test_an_invited_user_without_a_password_can_ask_for_a_new_link(db, client):
    """An account whose invitation expired still gets a reset mail."""
    user = User.objects.create_user("newbie", email="newbie@example.org")
    assert not user.has_usable_password()
    client.post("/accounts/password_reset/", {"email": "newbie@example.org"})
    assert len(mail.outbox) == 1


def test_an_inactive_user_gets_no_reset_mail(db, client):
    """Deactivated accounts cannot be revived through a reset link."""
    make_user("gone", email="gone@example.org", is_active=False)
    client.post("/accounts/password_reset/", {"email": "gone@example.org"})
    assert mail.outbox == []


# User management: who may


@pytest.mark.parametrize(
    "url", ["/accounts/users/", "/accounts/users/new/", "/accounts/users/1/"]
)
@pytest.mark.parametrize("name", ["coordinator", "official_07", "planner"])
def test_only_administrators_manage_users(users, client, url, name):
    """Signed-in users without the administrator role get 403."""
    client.force_login(users[name])
    assert client.get(url).status_code == 403


def test_anonymous_users_are_sent_to_sign_in(db, client):
    """Anonymous visitors are redirected to the sign-in page, then back."""
    response = client.get("/accounts/users/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/accounts/users/"


def test_superusers_manage_users_without_a_membership(geography, client):
    """A superuser is an administrator even without a Membership row."""
    client.force_login(make_user("root", is_superuser=True, is_staff=True))
    assert client.get("/accounts/users/").status_code == 200


# User management: list


def test_user_list_shows_roles_organizations_and_areas(
    users, client, django_assert_num_queries
):
    """The list shows each account's role, organization, areas and active flag."""
    make_user("official_multi", Role.EDUCATION_OFFICIAL, areas=["0801", "12"])
    make_user("no_role", is_active=False)
    client.force_login(users["admin"])
    # session, user, membership with its areas (access), count, users, their areas
    with django_assert_num_queries(6):
        response = client.get("/accounts/users/")
    rows = {
        cells[0]: cells[1:]
        for cells in (
            [re.sub(r"<[^>]+>", "", cell).strip() for cell in row]
            for row in re.findall(
                r"<tr>\s*((?:<td>.*?</td>\s*)+)</tr>", response.content.decode(), re.S
            )
            for row in [re.findall(r"<td>(.*?)</td>", row, re.S)]
        )
    }
    assert rows["official_07"][2:] == ["Education official", "SCI", "07", "yes"]
    assert rows["official_multi"][2:] == ["Education official", "", "0801, 12", "yes"]
    assert rows["coordinator"][2:] == ["Forum coordinator", "SCI", "Nationwide", "yes"]
    assert rows["no_role"][2:] == ["—", "", "", "no"]


# User management: create


def new_account(**overrides) -> dict:
    data = {
        "username": "sokha",
        "first_name": "Sokha",
        "last_name": "Chan",
        "email": "sokha@moeys.gov.kh",
        "role": Role.EDUCATION_OFFICIAL,
        "organization": "",
        "areas": "07",
        "is_active": "on",
    }
    data.update(overrides)
    return data


def test_administrator_creates_an_official_who_sets_their_own_password(
    users, client, django_capture_on_commit_callbacks
):
    """The account is saved with its scope and emailed a password-set link."""
    client.force_login(users["admin"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/users/new/", new_account(areas=" 07 "))
    assert response.status_code == 302
    assert response["Location"] == "/accounts/users/"

    sokha = User.objects.get(username="sokha")
    assert not sokha.has_usable_password()
    assert sokha.membership.role == Role.EDUCATION_OFFICIAL
    assert [a.code for a in sokha.membership.areas.all()] == ["07"]
    assert access_for(sokha).covers("070101")

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["sokha@moeys.gov.kh"]
    assert "sokha" in mail.outbox[0].body
    client.logout()
    set_password_through(client, mailed_link(mail.outbox[0]), "kampot-schools-2025")
    assert client.login(username="sokha", password="kampot-schools-2025")


def test_no_mail_is_sent_when_the_creation_is_rolled_back(
    users, client, django_capture_on_commit_callbacks
):
    """The password-set mail waits for the commit: a failed request sends none."""
    client.force_login(users["admin"])
    with django_capture_on_commit_callbacks() as callbacks:
        client.post("/accounts/users/new/", new_account())
    assert len(callbacks) == 1
    assert mail.outbox == []


def test_unknown_area_code_is_named_and_nothing_is_created(users, client):
    """ "07, 99, 0899" fails naming 99 and 0899; no account, no mail."""
    client.force_login(users["admin"])
    response = client.post("/accounts/users/new/", new_account(areas="07, 99, 0899"))
    assert response.status_code == 200
    assert response.context["form"].errors["areas"] == ["Unknown area codes: 99, 0899."]
    assert "Unknown area codes: 99, 0899." in response.content.decode()
    assert not User.objects.filter(username="sokha").exists()
    assert mail.outbox == []


def test_an_official_needs_an_area(users, client):
    """An education official without any area is refused."""
    client.force_login(users["admin"])
    response = client.post("/accounts/users/new/", new_account(areas=""))
    assert response.status_code == 200
    assert "areas" in response.context["form"].errors
    assert not User.objects.filter(username="sokha").exists()


def test_nationwide_roles_store_no_areas(
    users, client, django_capture_on_commit_callbacks
):
    """Areas typed for a coordinator are ignored: the role is nationwide."""
    client.force_login(users["admin"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/accounts/users/new/",
            new_account(role=Role.COORDINATOR, areas="07, 99"),
        )
    sokha = User.objects.get(username="sokha")
    assert sokha.membership.role == Role.COORDINATOR
    assert not sokha.membership.areas.exists()


def test_a_new_account_needs_an_unused_email(users, client):
    """Two accounts never share an email, so a reset link reaches one person."""
    users["planner"].email = "sokha@moeys.gov.kh"
    users["planner"].save()
    client.force_login(users["admin"])
    response = client.post(
        "/accounts/users/new/", new_account(email="Sokha@moeys.gov.kh")
    )
    assert "email" in response.context["form"].errors
    assert not User.objects.filter(username="sokha").exists()


# User management: edit


def test_administrator_moves_an_official_to_another_area(users, client):
    """Editing replaces the areas and can deactivate the account."""
    official = users["official_07"]
    client.force_login(users["admin"])
    form = client.get(f"/accounts/users/{official.pk}/").context["form"]
    assert form.initial["areas"] == "07"
    assert form.initial["role"] == Role.EDUCATION_OFFICIAL

    response = client.post(
        f"/accounts/users/{official.pk}/",
        new_account(
            username="official_07", email="o7@example.org", areas="0801; 120101"
        )
        | {"is_active": ""},
    )
    assert response.status_code == 302
    official.refresh_from_db()
    assert not official.is_active
    assert sorted(a.code for a in official.membership.areas.all()) == ["0801", "120101"]


def test_update_forgets_the_cached_scope(users):
    """After user_update, access_for answers with the new scope on the same object."""
    official = users["official_07"]
    assert access_for(official).covers("070101")
    user_update(
        user=official,
        username="official_07",
        email="",
        first_name="",
        last_name="",
        role=Role.EDUCATION_OFFICIAL,
        organization=None,
        areas=list(AdminArea.objects.filter(code="08")),
        is_active=True,
        by=users["admin"],
    )
    assert not access_for(official).covers("070101")
    assert access_for(official).covers("080101")


def test_administrators_cannot_lock_themselves_out(users, client):
    """An administrator cannot remove their own role or deactivate themselves."""
    admin = users["admin"]
    client.force_login(admin)
    response = client.post(
        f"/accounts/users/{admin.pk}/",
        new_account(username="admin", email="admin@example.org", role=Role.PLANNER),
    )
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    admin.refresh_from_db()
    assert admin.membership.role == Role.ADMINISTRATOR


def test_administrators_cannot_edit_a_superuser(users, client):
    """Only a superuser changes a superuser (no takeover by changing its email)."""
    root = make_user("root", is_superuser=True, is_staff=True)
    client.force_login(users["admin"])
    assert client.get(f"/accounts/users/{root.pk}/").status_code == 403
    response = client.post(
        f"/accounts/users/{root.pk}/",
        new_account(username="root", email="me@example.org", role=Role.ADMINISTRATOR),
    )
    assert response.status_code == 403
    root.refresh_from_db()
    assert root.email == ""
