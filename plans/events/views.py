"""Event pages: the list, one event's situation report with its map, the
report form for officials, and a form to open an event (coordinators)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from hazards.classes import HazardType
from plans.events import selectors, services
from plans.models import Event, StatusReport
from plans.services import may_manage_plans
from preparedness.models import AdminArea


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        return None


@login_required
def event_list_page(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "events/event_list.html",
        {
            "events": selectors.event_list(),
            "may_manage": may_manage_plans(request.user),
        },
    )


@login_required
def event_new(request: HttpRequest) -> HttpResponse:
    """Open an event: name, hazard, start date, affected provinces."""
    if not may_manage_plans(request.user):
        raise PermissionDenied(_("Only Forum coordinators open events."))
    errors: dict[str, str] = {}
    values: dict[str, Any] = {"starts_on": timezone.localdate().isoformat()}
    if request.method == "POST":
        values = {
            "name": request.POST.get("name", ""),
            "hazard_type": request.POST.get("hazard_type", ""),
            "starts_on": request.POST.get("starts_on", ""),
            "provinces": request.POST.getlist("provinces"),
        }
        data = {
            **values,
            "starts_on": _date(values["starts_on"]),
        }
        try:
            event = services.event_create(by=request.user, data=data)
        except ValidationError as exc:
            errors = {k: " ".join(v) for k, v in exc.message_dict.items()}
        else:
            messages.success(request, _("Event opened."))
            return redirect("event-page", pk=event.pk)
    return render(
        request,
        "events/event_new.html",
        {
            "values": values,
            "errors": errors,
            "hazards": HazardType.choices,
            "provinces": AdminArea.objects.filter(
                level=AdminArea.Level.PROVINCE, valid_to__isnull=True
            ).order_by("code"),
        },
        status=400 if errors else 200,
    )


def _posted_report(request: HttpRequest) -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    day = _date(request.POST.get("reported_on", ""))
    if day is None:
        errors["reported_on"] = _("Give the date as YYYY-MM-DD.")
    learners_text = request.POST.get("learners_affected", "0").strip() or "0"
    learners: int | str = learners_text
    if learners_text.isdigit():
        learners = int(learners_text)
    else:
        errors["learners_affected"] = _("Give a whole number of learners, 0 or more.")
    row = {
        "school": request.POST.get("school", "").strip(),
        "reported_on": day,
        "status": request.POST.get("status", ""),
        "flooded": request.POST.get("flooded") == "on",
        "damaged": request.POST.get("damaged") == "on",
        "shelter": request.POST.get("shelter") == "on",
        "learners_affected": learners,
        "note": request.POST.get("note", "")[:2000],
    }
    return row, errors


@login_required
def event_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The situation report by province and district (with the change since
    the previous report day), the map of school status, files, and the report
    form for those who may report."""
    try:
        event = Event.objects.prefetch_related("provinces").get(pk=pk)
    except Event.DoesNotExist:
        raise Http404("No such event.") from None
    may_report = services.may_report(request.user)
    errors: dict[str, str] = {}
    row: dict[str, Any] = {"reported_on": timezone.localdate(), "status": "open"}
    if request.method == "POST":
        if not may_report:
            raise PermissionDenied(_("You may not report school status."))
        row, errors = _posted_report(request)
        if not errors:
            try:
                services.reports_submit(by=request.user, event_id=pk, rows=[row])
            except (ValidationError, PermissionDenied) as exc:
                if isinstance(exc, ValidationError):
                    errors = {
                        k.split(".", 1)[-1]: " ".join(v)
                        for k, v in exc.message_dict.items()
                    }
                else:
                    errors = {"school": str(exc).split(": ", 1)[-1]}
            else:
                messages.success(
                    request, _("Status of %(code)s saved.") % {"code": row["school"]}
                )
                return redirect("event-page", pk=pk)
    as_of = _date(request.GET.get("as_of", ""))
    return render(
        request,
        "events/event.html",
        {
            "event": event,
            "sitrep": selectors.sitrep(event, as_of),
            "dates": selectors.report_dates(event)[:30],
            "may_report": may_report,
            "row": row,
            "errors": errors,
            "statuses": StatusReport.Status.choices,
        },
        status=400 if errors else 200,
    )
