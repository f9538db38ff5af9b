"""Event pages (included at the site root)."""

from django.urls import path

from plans.events import views

urlpatterns = [
    path("events/", views.event_list_page, name="event-list"),
    path("events/new/", views.event_new, name="event-new"),
    path("events/<int:pk>/", views.event_page, name="event-page"),
]
