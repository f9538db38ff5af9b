"""KoboToolbox / ODK exchange: XLSForm download and submission upload."""

from django.urls import path

from schools.checklists import kobo_views

urlpatterns = [
    path(
        "checklists/xlsform.xlsx",
        kobo_views.xlsform_download,
        name="checklist-xlsform",
    ),
    path(
        "checklists/import/",
        kobo_views.submissions_upload_page,
        name="checklist-import",
    ),
    path(
        "api/assessments/import/",
        kobo_views.SubmissionImportView.as_view(),
        name="api-assessment-import",
    ),
]
