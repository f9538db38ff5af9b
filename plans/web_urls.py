"""Plan pages (included at the site root)."""

from django.urls import path

from plans import views

urlpatterns = [
    path("plans/", views.plan_list_page, name="plan-list"),
    path("plans/new/", views.plan_new, name="plan-new"),
    path("plans/overview/", views.forum_overview, name="forum-overview"),
    path("plans/<int:pk>/", views.plan_page, name="plan-page"),
    path("plans/<int:pk>/edit/", views.plan_edit, name="plan-edit"),
    path("plans/<int:pk>/status/", views.plan_transition_page, name="plan-transition"),
    path("plans/<int:pk>/actions/new/", views.action_new, name="action-new"),
    path(
        "plans/<int:pk>/actions/<int:action_id>/edit/",
        views.action_edit,
        name="action-edit",
    ),
]
