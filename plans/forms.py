"""Forms of the plan pages: a plan, an action, a status change.

They validate shapes only; `plans.services` decides (permissions, Forum
membership, dates, areas) and its errors are put back on the fields.
"""

from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.translation import gettext_lazy as _

from hazards.classes import HazardType
from plans.models import Action, Plan, Sector
from preparedness.forms import parse_area_codes
from preparedness.models import Organization


def forum_members() -> Any:
    return Organization.objects.filter(forum_member=True).order_by("name")


class PlanForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    hazard_types = forms.MultipleChoiceField(
        label=_("Hazards"),
        choices=HazardType.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    season = forms.CharField(
        label=_("Period or season"), max_length=100, required=False
    )
    starts_on = forms.DateField(
        label=_("Starts on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    ends_on = forms.DateField(
        label=_("Ends on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    lead = forms.ModelChoiceField(label=_("Lead"), queryset=Organization.objects.none())
    co_lead = forms.ModelChoiceField(
        label=_("Co-lead"), queryset=Organization.objects.none(), required=False
    )
    sectors = forms.MultipleChoiceField(
        label=_("Sectors"),
        choices=Sector.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    coverage = forms.CharField(
        label=_("Areas covered"),
        help_text=_("Codes of provinces, districts or communes, e.g. 07, 0801."),
    )
    triggers = forms.CharField(
        label=_("Activation triggers"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    review_on = forms.DateField(
        label=_("Review date"),
        widget=forms.DateInput(attrs={"type": "date"}),
        required=False,
    )
    documents = forms.CharField(
        label=_("Linked documents"),
        help_text=_("One link (URL) per line."),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lead"].queryset = forum_members()  # type: ignore[attr-defined]
        self.fields["co_lead"].queryset = forum_members()  # type: ignore[attr-defined]

    def clean_coverage(self) -> list[str]:
        return parse_area_codes(self.cleaned_data["coverage"])

    def clean_documents(self) -> list[str]:
        links = [line.strip() for line in self.cleaned_data["documents"].splitlines()]
        links = [link for link in links if link]
        field = forms.URLField(assume_scheme="https")
        for link in links:
            field.clean(link)  # raises "Enter a valid URL."
        return links

    @staticmethod
    def initial_for(plan: Plan) -> dict[str, Any]:
        return {
            "title": plan.title,
            "hazard_types": plan.hazard_types,
            "season": plan.season,
            "starts_on": plan.starts_on,
            "ends_on": plan.ends_on,
            "lead": plan.lead_id,
            "co_lead": plan.co_lead_id,
            "sectors": plan.sectors,
            "coverage": ", ".join(
                plan.coverage.order_by("code").values_list("code", flat=True)
            ),
            "triggers": plan.triggers,
            "review_on": plan.review_on,
            "documents": "\n".join(plan.documents),
            "version": plan.version,
        }

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        data["lead"] = data["lead"].pk if data["lead"] else None
        data["co_lead"] = data["co_lead"].pk if data["co_lead"] else None
        return data


class ActionForm(forms.Form):
    title = forms.CharField(label=_("Action"), max_length=300)
    sector = forms.ChoiceField(label=_("Sector"), choices=Sector.choices)
    organization = forms.ModelChoiceField(
        label=_("Responsible organization"), queryset=Organization.objects.none()
    )
    focal_person = forms.CharField(
        label=_("Focal person"), max_length=150, required=False
    )
    due_on = forms.DateField(
        label=_("Due date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    status = forms.ChoiceField(label=_("Status"), choices=Action.Status.choices)
    progress = forms.CharField(
        label=_("Progress notes"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    areas = forms.CharField(
        label=_("Areas served"),
        required=False,
        help_text=_("Codes of provinces, districts or communes, e.g. 0701."),
    )
    schools = forms.CharField(
        label=_("Schools served"),
        required=False,
        help_text=_("School codes separated by commas."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    # What a member of the action's organization may change.
    MEMBER_FIELDS = ("focal_person", "status", "progress", "version")

    def __init__(self, *args: Any, member_only: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = forum_members()  # type: ignore[attr-defined]
        if member_only:
            for name in list(self.fields):
                if name not in self.MEMBER_FIELDS:
                    del self.fields[name]

    def clean_areas(self) -> list[str]:
        return parse_area_codes(self.cleaned_data["areas"])

    def clean_schools(self) -> list[str]:
        return parse_area_codes(self.cleaned_data["schools"])

    @staticmethod
    def initial_for(action: Action) -> dict[str, Any]:
        return {
            "title": action.title,
            "sector": action.sector,
            "organization": action.organization_id,
            "focal_person": action.focal_person,
            "due_on": action.due_on,
            "status": action.status,
            "progress": action.progress,
            "areas": ", ".join(
                action.areas.order_by("code").values_list("code", flat=True)
            ),
            "schools": ", ".join(
                action.schools.order_by("code").values_list("code", flat=True)
            ),
            "version": action.version,
        }

    def service_data(self, initial: dict[str, Any] | None = None) -> dict[str, Any]:
        """The fields to write: all of them for a new action, else those changed."""
        data = dict(self.cleaned_data)
        data.pop("version", None)
        if "organization" in data:
            data["organization"] = data["organization"].pk
        if initial is None:
            return data
        before = dict(initial)
        for name in ("areas", "schools"):
            before[name] = parse_area_codes(before.get(name) or "")
        return {k: v for k, v in data.items() if v != before.get(k)}


class TransitionForm(forms.Form):
    to = forms.ChoiceField(label=_("New status"), choices=Plan.Status.choices)
    why = forms.CharField(label=_("Why"), widget=forms.Textarea(attrs={"rows": 2}))
    trigger = forms.CharField(
        label=_("Trigger (when activating)"), max_length=500, required=False
    )


def put_errors(form: forms.Form, error: ValidationError) -> None:
    """Attach a service's errors to the form's fields (others to the form)."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, messages in error.message_dict.items():
        target = field if field in form.fields else None
        if field == NON_FIELD_ERRORS:
            target = None
        for message in messages:
            form.add_error(target, message)
