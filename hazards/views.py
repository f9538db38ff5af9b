"""API of hazard layers: thin adapters over the selectors and services."""

import re
import tempfile
from pathlib import Path
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hazards.models import HazardLayer, HazardZone, StormTrack
from hazards.selectors import layer_get, layer_list, track_list, zone_list
from hazards.serializers import (
    FeatureFilterSerializer,
    LayerDetailSerializer,
    LayerFilterSerializer,
    LayerImportSerializer,
    LayerSerializer,
    TrackFeatureSerializer,
    ZoneFeatureSerializer,
)
from hazards.services import (
    LayerImportResult,
    hazard_layer_delete,
    hazard_layer_import,
    hazard_layer_set_active,
)
from preparedness.access import Role
from preparedness.api import GeoJsonPagination, role_permission
from preparedness.readers import ImportRejected, InputError
from preparedness.serializers import validated_query
from preparedness.uploads import check_request_size

LISTED = 200  # rejected features listed in a 400 answer
MayManageLayers = role_permission(Role.COORDINATOR, Role.ADMINISTRATOR)
TAGS = ["hazards"]


def _layer(pk: int) -> HazardLayer:
    try:
        return layer_get(pk=pk)
    except HazardLayer.DoesNotExist:
        raise NotFound() from None


def _as_uploaded(text: str, *, path: Path, name: str) -> str:
    """`text` naming the file as the user did (`floods.gpkg`), never by the
    server's copy (`upload.gpkg`) or a path in SalaSafe's own temporary folders
    (GDAL quotes `/tmp/salasafe-hazard-x/upload.tif`, or the COG being
    written). Other paths are the user's own words (a zip member named
    `/tmp/evil.shp`) and stay as they are."""
    temp = re.escape(str(Path(tempfile.gettempdir())))
    server_paths = temp + r"/salasafe-[^\s'\",;]*"
    return re.sub(server_paths, name, text).replace(path.name, name)


def _bad_input(exc: InputError, *, path: Path, name: str) -> ValidationError:
    """An import refusal as a 400 naming the field at fault (`file` by default)
    and the uploaded file by its own name."""
    if isinstance(exc, ImportRejected):
        head = (
            f"{len(exc.errors)} of {exc.read} features rejected; nothing was written "
            "(skip_bad_rows imports the others)."
        )
        rows = [_as_uploaded(str(e), path=path, name=name) for e in exc.errors[:LISTED]]
        return ValidationError({"file": [head, *rows]})
    message = _as_uploaded(str(exc), path=path, name=name)
    return ValidationError({getattr(exc, "field", "file"): [message]})


def _import_upload(data: dict[str, Any], *, by: Any) -> LayerImportResult:
    """Save the upload under a server-chosen name in a private folder and import it."""
    upload = data.pop("file")
    suffix = Path(upload.name).suffix.lower()
    with tempfile.TemporaryDirectory(prefix="salasafe-hazard-") as folder:
        path = Path(folder) / f"upload{suffix}"
        with path.open("wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        try:
            return hazard_layer_import(
                path=path,
                by=by,
                mapping=data.pop("map", None),
                **data,
            )
        except InputError as exc:
            name = Path(upload.name).name
            raise _bad_input(exc, path=path, name=name) from None


@extend_schema_view(
    get=extend_schema(tags=TAGS, parameters=[LayerFilterSerializer]),
    post=extend_schema(
        tags=TAGS,
        request={"multipart/form-data": LayerImportSerializer},
        responses={201: LayerDetailSerializer},
        description="Upload a hazard file (coordinators and administrators). "
        "A layer of the same name is replaced.",
    ),
)
class LayerListView(generics.ListAPIView):
    """Hazard layers with feature counts; coordinators and administrators upload."""

    serializer_class = LayerSerializer
    permission_classes = [MayManageLayers]
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self) -> QuerySet[HazardLayer]:
        return layer_list(filters=validated_query(self.request, LayerFilterSerializer))

    def post(self, request: Request) -> Response:
        check_request_size(request, kind="hazard")
        form = LayerImportSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        result = _import_upload(dict(form.validated_data), by=request.user)
        layer = layer_get(pk=result.layer.pk)
        return Response(
            LayerDetailSerializer(layer).data, status=status.HTTP_201_CREATED
        )


@extend_schema_view(
    get=extend_schema(tags=TAGS),
    delete=extend_schema(tags=TAGS, description="Delete a layer with its features."),
)
class LayerDetailView(generics.RetrieveDestroyAPIView):
    """One layer with its import summary; coordinators and administrators delete."""

    serializer_class = LayerDetailSerializer
    permission_classes = [MayManageLayers]

    def get_object(self) -> HazardLayer:
        layer = _layer(self.kwargs["pk"])
        self.check_object_permissions(self.request, layer)
        return layer

    def perform_destroy(self, instance: HazardLayer) -> None:
        hazard_layer_delete(layer=instance, by=self.request.user)


class LayerSwitchView(APIView):
    """Switch a layer on (`activate/`) or off (`deactivate/`)."""

    permission_classes = [role_permission(Role.COORDINATOR, Role.ADMINISTRATOR)]
    active = True

    @extend_schema(tags=TAGS, request=None, responses=LayerDetailSerializer)
    def post(self, request: Request, pk: int) -> Response:
        layer = _layer(pk)
        hazard_layer_set_active(layer=layer, active=self.active, by=request.user)
        return Response(LayerDetailSerializer(_layer(pk)).data)


@extend_schema_view(get=extend_schema(tags=TAGS, parameters=[FeatureFilterSerializer]))
class ZoneListView(generics.ListAPIView):
    """A zones layer's polygons as a paginated GeoJSON FeatureCollection."""

    serializer_class = ZoneFeatureSerializer
    pagination_class = GeoJsonPagination

    def get_queryset(self) -> QuerySet[HazardZone]:
        filters = validated_query(self.request, FeatureFilterSerializer)
        layer = _layer(self.kwargs["pk"])
        return zone_list(layer=layer, bbox=filters.get("bbox"))


@extend_schema_view(get=extend_schema(tags=TAGS, parameters=[FeatureFilterSerializer]))
class TrackListView(generics.ListAPIView):
    """A tracks layer's segments as a paginated GeoJSON FeatureCollection."""

    serializer_class = TrackFeatureSerializer
    pagination_class = GeoJsonPagination

    def get_queryset(self) -> QuerySet[StormTrack]:
        filters = validated_query(self.request, FeatureFilterSerializer)
        layer = _layer(self.kwargs["pk"])
        return track_list(layer=layer, bbox=filters.get("bbox"))
