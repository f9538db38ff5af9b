"""KoboToolbox / ODK exchange: the XLSForm download and the submissions upload.

Thin adapters over `xlsform.py` and `submissions.py`. The blank form is public;
only education officials (for schools of their areas) and administrators
upload submissions. A refused file answers 400 naming the field, or the rows
with their field and reason; nothing is written then.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from preparedness.access import Role, access_for
from preparedness.api import role_permission
from preparedness.readers import TABULAR, ImportRejected, InputError, RowError
from schools.checklists.selectors import framework_get
from schools.checklists.submissions import SubmissionImportResult, submissions_import
from schools.checklists.xlsform import CONTENT_TYPE, xlsform_filename, xlsform_write

TAGS = ["checklists"]
UPLOAD_MAX_BYTES = 10 * 1024 * 1024
LISTED = 500  # rejected rows listed in an answer


@require_GET
def xlsform_download(request: HttpRequest) -> HttpResponse:
    """The blank checklist XLSForm of a version (latest by default); public."""
    framework = framework_get(request.GET.get("framework") or None)
    buffer = io.BytesIO()
    xlsform_write(framework, buffer)
    response = HttpResponse(buffer.getvalue(), content_type=CONTENT_TYPE)
    name = xlsform_filename(framework.version)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


class SubmissionUploadSerializer(serializers.Serializer):
    """A KoboToolbox / ODK Central export with the options of the command."""

    file = serializers.FileField(
        help_text="CSV (`,` or `;`) or XLSX export of the checklist XLSForm's "
        "submissions, with the submission id column (_uuid or instanceID)."
    )
    framework = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=32,
        help_text="Framework version of the form (default: the latest).",
    )
    skip_bad_rows = serializers.BooleanField(required=False, default=False)

    def validate_file(self, upload: Any) -> Any:
        if Path(upload.name or "").suffix.lower() not in TABULAR:
            raise serializers.ValidationError(
                _("Send the export as a .csv or .xlsx file.")
            )
        if upload.size is None or upload.size > UPLOAD_MAX_BYTES:
            raise serializers.ValidationError(
                _("The file is larger than %(mb)d MB.")
                % {"mb": UPLOAD_MAX_BYTES // 2**20}
            )
        return upload


ROW_ERROR_CLASS = type(
    inline_serializer(
        "SubmissionRowError",
        {
            "row": serializers.IntegerField(),
            "field": serializers.CharField(),
            "reason": serializers.CharField(),
            "code": serializers.CharField(),
        },
    )
)
ROW_ERROR = ROW_ERROR_CLASS(many=True)


def _rows(errors: list[RowError]) -> list[dict[str, Any]]:
    return [
        {"row": e.row, "field": e.field, "reason": e.reason, "code": e.code}
        for e in errors[:LISTED]
    ]


def _summary(result: SubmissionImportResult) -> dict[str, Any]:
    return {
        "read": result.read,
        "created": result.created,
        "skipped_existing": result.skipped_existing,
        "rejected": len({e.row for e in result.rejected}),
        "rows": _rows(result.rejected),
    }


class SubmissionImportView(APIView):
    """Import checklists filled in KoboToolbox or ODK Collect as submitted
    assessments (education officials for their areas, administrators)."""

    permission_classes = [
        role_permission(Role.EDUCATION_OFFICIAL, Role.ADMINISTRATOR, read_open=False)
    ]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        tags=TAGS,
        request={"multipart/form-data": SubmissionUploadSerializer},
        responses={
            200: inline_serializer(
                "SubmissionImportSummary",
                {
                    "read": serializers.IntegerField(),
                    "created": serializers.IntegerField(),
                    "skipped_existing": serializers.IntegerField(),
                    "rejected": serializers.IntegerField(),
                    "rows": ROW_ERROR,
                },
            ),
            400: inline_serializer(
                "SubmissionImportRefusal",
                {
                    # Bad rows name the file and list the rows; other errors
                    # name their field (`{field: [messages]}`).
                    "file": serializers.ListField(
                        child=serializers.CharField(), required=False
                    ),
                    "rows": ROW_ERROR_CLASS(many=True, required=False),
                },
            ),
        },
        description="Upload a KoboToolbox or ODK Central export (CSV or XLSX, at "
        "most 10 MB). Submissions already imported are skipped. Any bad row "
        "writes nothing and answers 400 listing the rows, unless skip_bad_rows.",
    )
    def post(self, request: Request) -> Response:
        form = SubmissionUploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        upload = data["file"]
        try:
            result = _import_upload(
                request, upload, data.get("framework") or None, data["skip_bad_rows"]
            )
        except ImportRejected as exc:
            head = _(
                "%(bad)d of %(read)d rows rejected; nothing was written "
                "(skip_bad_rows imports the others)."
            ) % {"bad": len({e.row for e in exc.errors}), "read": exc.read}
            return Response(
                {"file": [head], "rows": _rows(exc.errors)},
                status=status.HTTP_400_BAD_REQUEST,
            )
        except InputError as exc:
            field = getattr(exc, "field", "file")
            return Response({field: [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
        return Response(_summary(result))


def _import_upload(
    request: Any, upload: Any, framework: str | None, skip_bad_rows: bool
) -> SubmissionImportResult:
    """Save the upload under its (safe) name in a private folder and import it."""
    name = get_valid_filename(Path(upload.name).name)[-100:]
    with tempfile.TemporaryDirectory(prefix="salasafe-kobo-") as folder:
        path = Path(folder) / name
        with path.open("wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        return submissions_import(
            path=path,
            by=request.user,
            framework_version=framework,
            skip_bad_rows=skip_bad_rows,
            filename=name,
        )


@login_required
def submissions_upload_page(request: HttpRequest) -> HttpResponse:
    """A page to upload a KoboToolbox / ODK export (officials, administrators)."""
    access = access_for(request.user)
    if not access.has_role(Role.EDUCATION_OFFICIAL, Role.ADMINISTRATOR):
        raise PermissionDenied(_("Only education officials import checklists."))
    context: dict[str, Any] = {"errors": [], "rows": [], "result": None}
    status_code = 200
    if request.method == "POST":
        form = SubmissionUploadSerializer(
            data={**request.POST.dict(), **request.FILES.dict()}
        )
        if not form.is_valid():
            context["errors"] = [m for ms in form.errors.values() for m in ms]
            status_code = 400
        else:
            data = form.validated_data
            try:
                context["result"] = _import_upload(
                    request,
                    data["file"],
                    data.get("framework") or None,
                    data["skip_bad_rows"],
                )
                context["rows"] = _rows(context["result"].rejected)
            except ImportRejected as exc:
                context["errors"] = [
                    _("%(bad)d of %(read)d rows rejected; nothing was written.")
                    % {"bad": len({e.row for e in exc.errors}), "read": exc.read}
                ]
                context["rows"] = _rows(exc.errors)
                status_code = 400
            except InputError as exc:
                context["errors"] = [str(exc)]
                status_code = 400
    return render(request, "checklists/import.html", context, status=status_code)
