"""Pages of the core: health, sign-in, password reset, user management."""

from django.contrib.auth import views as auth_views
from django.urls import path

from preparedness import views
from preparedness.forms import PasswordResetForm, SignInForm

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=SignInForm),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password_reset/",
        auth_views.PasswordResetView.as_view(
            form_class=PasswordResetForm,
            extra_email_context={"site_name": "SalaSafe"},
        ),
        name="password_reset",
    ),
    path(
        "accounts/password_reset/done/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("accounts/users/", views.user_list, name="user-list"),
    path("accounts/users/new/", views.user_new, name="user-new"),
    path("accounts/users/<int:pk>/", views.user_edit, name="user-edit"),
]
