// A small Leaflet map of one GeoJSON file (a plan's coverage, an event's school
// status). The data layer draws even when the base-map tiles cannot load.
(function () {
  "use strict";
  var STATUS_COLOURS = { closed: "#b3261e", shelter: "#1d4ed8", open: "#2e7d32" };

  function colour(properties) {
    if (properties.shelter) return STATUS_COLOURS.shelter;
    return STATUS_COLOURS[properties.status] || "#555";
  }

  function draw(element) {
    var map = L.map(element, { scrollWheelZoom: false }).setView([12.6, 104.9], 7);
    L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
      maxZoom: 18,
      attribution: "&copy; OpenStreetMap contributors",
    }).addTo(map);
    fetch(element.dataset.geojson, { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        var layer = L.geoJSON(data, {
          style: function (feature) {
            // Areas only: points keep the colours pointToLayer gave them.
            if (feature.geometry && feature.geometry.type === "Point") return {};
            return { color: "#1d4ed8", weight: 2, fillOpacity: 0.12 };
          },
          pointToLayer: function (feature, latlng) {
            return L.circleMarker(latlng, {
              radius: 6, weight: 1, color: "#fff", fillOpacity: 0.9,
              fillColor: colour(feature.properties || {}),
            });
          },
          onEachFeature: function (feature, marker) {
            var p = feature.properties || {};
            var name = [p.name_km, p.name_en].filter(Boolean).join(" · ");
            var text = document.createElement("span");
            text.textContent = (p.school || p.code || "") + " " + (name || p.title || "");
            marker.bindPopup(text);
          },
        }).addTo(map);
        var bounds = layer.getBounds();
        if (bounds.isValid()) map.fitBounds(bounds, { maxZoom: 12, padding: [10, 10] });
        element.dataset.features = String((data.features || []).length);
      });
  }

  document.querySelectorAll("[data-geojson]").forEach(draw);
})();
