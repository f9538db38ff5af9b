"""Checklist pages and API (included at the site root)."""

from django.urls import path

from schools.checklists import api_views, views
from schools.risk import views as risk_views

urlpatterns = [
    path("schools/", views.my_schools, name="my-schools"),
    path("priorities/", risk_views.priorities_page, name="priorities"),
    path("schools/<str:code>/", views.school_page, name="school-page"),
    path("schools/<str:code>/assess/", views.assessment_start, name="assessment-start"),
    path("assessments/<int:pk>/", views.assessment_detail, name="assessment-detail"),
    path("assessments/<int:pk>/edit/", views.assessment_edit, name="assessment-edit"),
    path(
        "assessments/<int:pk>/verify/",
        views.assessment_verify,
        name="assessment-verify",
    ),
    path("checklists/print/", views.checklist_print, name="checklist-print"),
    path("checklists/print.pdf", views.checklist_pdf, name="checklist-pdf"),
    path(
        "api/frameworks/",
        api_views.FrameworkListView.as_view(),
        name="api-framework-list",
    ),
    path(
        "api/frameworks/<str:version>/",
        api_views.FrameworkDetailView.as_view(),
        name="api-framework-detail",
    ),
    path(
        "api/assessments/",
        api_views.AssessmentListView.as_view(),
        name="api-assessment-list",
    ),
    path(
        "api/assessments/<int:pk>/",
        api_views.AssessmentDetailView.as_view(),
        name="api-assessment-detail",
    ),
    path(
        "api/assessments/<int:pk>/submit/",
        api_views.AssessmentSubmitView.as_view(),
        name="api-assessment-submit",
    ),
    path(
        "api/assessments/<int:pk>/verify/",
        api_views.AssessmentVerifyView.as_view(),
        name="api-assessment-verify",
    ),
    path(
        "api/assessments/<int:pk>/history/",
        api_views.AssessmentHistoryView.as_view(),
        name="api-assessment-history",
    ),
    path(
        "api/assessments/<int:pk>/answers/<str:code>/evidence/",
        api_views.EvidenceUploadView.as_view(),
        name="api-assessment-evidence",
    ),
]
