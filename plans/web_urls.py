"""Plan pages (included at the site root)."""

from django.urls import path

from plans import views

urlpatterns = [
    path("plans/", views.plan_list_page, name="plan-list"),
    path("plans/overview/", views.forum_overview, name="forum-overview"),
    path("plans/<int:pk>/", views.plan_page, name="plan-page"),
]
