/* SalaSafe risk map: vector-tile layers, popups, search, areas of interest.
   The page (maps/render.py) calls SalaSafe.setup(map, config) first, then
   SalaSafe.vectorLayer(kind, url) per tile layer, then SalaSafe.finish(map). */
(function () {
  "use strict";

  // Leaflet 1.8 dropped L.DomEvent.fakeStop, which VectorGrid 1.3 calls on click.
  if (L.DomEvent && !L.DomEvent.fakeStop) {
    L.DomEvent.fakeStop = function () { return true; };
  }

  // VectorGrid's point features are CircleMarkers without a latlng; Leaflet 1.9
  // reads one on every mouse event over a small marker. Give them the event's.
  var findTargets = L.Map.prototype._findEventTargets;
  L.Map.prototype._findEventTargets = function (e, type) {
    var targets = findTargets.call(this, e, type);
    for (var i = 0; i < targets.length; i++) {
      var t = targets[i];
      if (t.properties && t.getLatLng && !t._latlng && e.clientX !== undefined) {
        t._latlng = this.mouseEventToLatLng(e);
      }
    }
    return targets;
  };

  var config = null;
  var map = null;
  var RISK_ORDER = ["very_low", "low", "medium", "high", "very_high"];
  var KIND_LETTERS = {
    ccwc: "C", wccc: "W", social_worker: "S", safe_shelter: "H",
    health_centre: "+", referral_hospital: "R", police_post: "P",
    psychosocial_support: "Ψ", evacuation_centre: "E"
  };
  var KIND_COLOURS = {
    ccwc: "#1f78b4", wccc: "#1f78b4", social_worker: "#33a02c", safe_shelter: "#6a3d9a",
    health_centre: "#e31a1c", referral_hospital: "#b15928", police_post: "#4d4d4d",
    psychosocial_support: "#ff7f00", evacuation_centre: "#a6761d"
  };
  var icons = {};

  function esc(value) {
    return String(value === null || value === undefined ? "" : value)
      .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }

  function label(key) { return config.labels[key] || key; }

  function kindIcon(kind) {
    if (!icons[kind]) {
      var colour = KIND_COLOURS[kind] || "#333";
      var svg = '<svg xmlns="http://www.w3.org/2000/svg" width="18" height="18">' +
        '<rect x="1" y="1" width="16" height="16" rx="3" fill="' + colour +
        '" stroke="white" stroke-width="1.5"/><text x="9" y="13" font-size="11" ' +
        'font-family="sans-serif" font-weight="bold" text-anchor="middle" fill="white">' +
        (KIND_LETTERS[kind] || "?") + "</text></svg>";
      icons[kind] = L.icon({
        iconUrl: "data:image/svg+xml;charset=utf-8," + encodeURIComponent(svg),
        iconSize: [18, 18], iconAnchor: [9, 9]
      });
    }
    return icons[kind];
  }

  function parsed(text) {
    if (!text) { return null; }
    try { return JSON.parse(text); } catch (e) { return null; }
  }

  function schoolPopup(p) {
    var rows = [];
    var risk = config.labels.risk[p.risk_class] || p.risk_class;
    rows.push("<tr><th>" + esc(label("code")) + "</th><td>" + esc(p.code) + "</td></tr>");
    rows.push("<tr><th>" + esc(label("learners")) + "</th><td>" + esc(p.learners) + "</td></tr>");
    rows.push("<tr><th>" + esc(label("risk_class")) + "</th><td><span class=\"swatch dot\" style=\"background:" +
      esc(config.riskColours[p.risk_class]) + "\"></span>" + esc(risk) + " (" + esc(p.risk_score) + ")</td></tr>");
    var levels = parsed(p.hazard_levels) || {};
    var hazardText = Object.keys(levels).map(function (k) {
      return esc(k.replace(/_/g, " ")) + ": " + esc(config.labels.hazard[String(levels[k])] || levels[k]);
    }).join("<br>") || esc(label("none"));
    rows.push("<tr><th>" + esc(label("hazard_levels")) + "</th><td>" + hazardText + "</td></tr>");
    rows.push("<tr><th>" + esc(label("css_score")) + "</th><td>" +
      (p.css_score === undefined || p.css_score === null ? esc(label("never_assessed")) : esc(p.css_score)) + "</td></tr>");
    if (config.details) {
      var areas = parsed(p.css_area_scores) || {};
      var areaText = Object.keys(areas).map(function (k) {
        return esc(k) + " " + esc(areas[k] === null ? "–" : Math.round(areas[k]));
      }).join(" · ") || "–";
      rows.push("<tr><th>" + esc(label("css_by_area")) + "</th><td>" + areaText + "</td></tr>");
      var gaps = parsed(p.critical_gaps) || [];
      rows.push("<tr><th>" + esc(label("critical_gaps")) + "</th><td>" +
        (gaps.length ? gaps.map(esc).join(", ") : esc(label("none"))) + "</td></tr>");
    }
    var url = config.urls.school.replace("{code}", encodeURIComponent(p.code));
    return '<div class="school-popup"><h3 lang="km">' + esc(p.name_km) + "</h3><h4>" + esc(p.name_en) +
      "</h4><table>" + rows.join("") + '</table><p><a class="open-page" href="' + esc(url) + '">' +
      esc(label("open_page")) + " →</a></p></div>";
  }

  function clusterPopup(p) {
    return "<p><strong>" + esc(p.count) + "</strong> " + esc(label("schools")) + ", <strong>" +
      esc(p.high) + "</strong> " + esc(label("high")) + "</p><p>" + esc(label("zoom_in")) + "</p>";
  }

  function servicePopup(p) {
    return '<div><h3 lang="km">' + esc(p.name_km) + "</h3><h4>" + esc(p.name_en) + "</h4><table>" +
      "<tr><th>" + esc(label("code")) + "</th><td>" + esc(p.code) + "</td></tr>" +
      "<tr><th>" + esc(label("kind")) + "</th><td>" + esc(String(p.kind).replace(/_/g, " ")) + "</td></tr>" +
      (p.contact ? "<tr><th>" + esc(label("contact")) + "</th><td>" + esc(p.contact) + "</td></tr>" : "") +
      (p.sensitive ? "<tr><td colspan=2>" + esc(label("sensitive")) + "</td></tr>" : "") +
      "</table></div>";
  }

  function zonePopup(p) {
    return "<p><strong>" + esc(p.layer_name) + "</strong></p><p>" + esc(label("hazard_class")) + ": " +
      esc(config.labels.hazard[String(p.hazard_class)]) +
      (p.intensity !== undefined && p.intensity !== null ? "<br>" + esc(label("intensity")) + ": " +
        esc(p.intensity) + " " + esc(p.units || "") : "") + "</p>";
  }

  function trackPopup(p) {
    return "<p><strong>" + esc(p.name || p.storm_id || "") + "</strong></p><p>" + esc(label("wind")) + ": " +
      esc(p.max_wind_kt) + "<br>" + esc(label("radius")) + ": " + esc(p.radius_km) + "</p>";
  }

  function schoolStyle(p, zoom) {
    if (p.count !== undefined) {
      var worst = RISK_ORDER[(p.worst_class || 1) - 1];
      return {
        radius: Math.min(15, 3 + 1.6 * Math.log(p.count + 1) / Math.LN2),
        fill: true, fillColor: config.riskColours[worst], fillOpacity: 0.8,
        color: "#ffffff", weight: 1.5
      };
    }
    return {
      radius: zoom >= 14 ? 7 : 5, fill: true, fillColor: config.riskColours[p.risk_class] || "#999",
      fillOpacity: 0.95, color: "#222222", weight: 1
    };
  }

  var STYLES = {
    schools: { schools: schoolStyle },
    services: {
      services: function (p) { return { icon: kindIcon(p.kind) }; }
    },
    hazard_zones: {
      hazard_zones: function (p) {
        return {
          fill: true, fillColor: config.hazardColours[String(p.hazard_class)] || "#eeeeee",
          fillOpacity: 0.45, color: config.hazardColours[String(p.hazard_class)] || "#999", weight: 0.5
        };
      }
    },
    storm_tracks: {
      wind_radius: { fill: true, fillColor: "#ff7f00", fillOpacity: 0.08, color: "#ff7f00", weight: 0.3 },
      storm_tracks: { color: "#b30000", weight: 2.5 }
    },
    admin_areas: {
      admin_areas: { fill: false, color: "#555555", weight: 0.8, opacity: 0.8 }
    }
  };
  var PANES = {
    admin_areas: "salasafe-areas", hazard_zones: "salasafe-hazards", storm_tracks: "salasafe-hazards",
    services: "salasafe-services", schools: "salasafe-schools"
  };
  var POPUPS = {
    schools: function (p) { return p.count !== undefined ? clusterPopup(p) : schoolPopup(p); },
    services: servicePopup, hazard_zones: zonePopup, storm_tracks: trackPopup, admin_areas: null
  };

  function csrfToken() {
    var match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function mapUrlWithAoi(id) {
    var params = new URLSearchParams(config.urls.query);
    params.set("aoi", id);
    return config.urls.map + "?" + params.toString();
  }

  function sendArea(body, isForm) {
    var headers = { "X-CSRFToken": csrfToken() };
    if (!isForm) { headers["Content-Type"] = "application/json"; }
    return fetch(config.urls.aois, {
      method: "POST", credentials: "same-origin", headers: headers,
      body: isForm ? body : JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) {
          var messages = Object.keys(data).map(function (k) { return [].concat(data[k]).join(" "); });
          throw new Error(messages.join(" "));
        }
        return data;
      });
    }).then(function (data) { window.location.href = mapUrlWithAoi(data.id); });
  }

  function setupDraw() {
    if (!config.canDraw || !L.Control.Draw) { return; }
    var drawn = new L.FeatureGroup().addTo(map);
    map.addControl(new L.Control.Draw({
      position: "topleft",
      draw: { polyline: false, circle: false, marker: false, circlemarker: false, rectangle: {}, polygon: {} },
      edit: false
    }));
    map.on(L.Draw.Event.CREATED, function (e) {
      drawn.addLayer(e.layer);
      var name = window.prompt(label("aoi_name"), "");
      if (name === null) { drawn.clearLayers(); return; }
      sendArea({ name: name, geometry: e.layer.toGeoJSON().geometry }, false).catch(function (err) {
        window.alert(label("error") + " " + err.message);
        drawn.clearLayers();
      });
    });
  }

  function setupUpload() {
    var form = document.getElementById("riskmap-upload");
    if (!form) { return; }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var error = document.getElementById("riskmap-upload-error");
      error.textContent = "";
      sendArea(new FormData(form), true).catch(function (err) {
        error.textContent = label("error") + " " + err.message;
      });
    });
  }

  function setupSearch() {
    var input = document.getElementById("riskmap-q");
    var list = document.getElementById("riskmap-results");
    if (!input || !list) { return; }
    // Enter searches as typing does; the form itself never submits.
    input.form.addEventListener("submit", function (event) { event.preventDefault(); });
    var timer = null;
    var marker = null;
    function show(results) {
      list.innerHTML = "";
      if (!results.length) {
        list.innerHTML = "<li>" + esc(label("no_results")) + "</li>";
        return;
      }
      results.forEach(function (r) {
        var item = document.createElement("li");
        var button = document.createElement("button");
        button.type = "button";
        button.className = "link";
        button.innerHTML = "<strong>" + esc(r.code) + "</strong> " + esc(r.name_en) +
          ' <span lang="km">' + esc(r.name_km) + "</span>";
        button.addEventListener("click", function () {
          map.setView([r.lat, r.lon], 15);
          if (marker) { map.removeLayer(marker); }
          marker = L.circleMarker([r.lat, r.lon], { radius: 12, color: "#000", weight: 3, fill: false })
            .addTo(map)
            .bindPopup('<p><strong>' + esc(r.code) + "</strong> " + esc(r.name_en) + '<br><span lang="km">' +
              esc(r.name_km) + '</span></p><p><a class="open-page" href="' + esc(r.url) + '">' +
              esc(label("open_page")) + " →</a></p>")
            .openPopup();
        });
        item.appendChild(button);
        list.appendChild(item);
      });
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      var q = input.value.trim();
      if (q.length < 2) { list.innerHTML = ""; return; }
      timer = setTimeout(function () {
        fetch(config.urls.search + "?q=" + encodeURIComponent(q), { credentials: "same-origin" })
          .then(function (response) { return response.ok ? response.json() : { results: [] }; })
          .then(function (data) { show(data.results); });
      }, 250);
    });
  }

  function setupFilters() {
    var form = document.getElementById("riskmap-filters");
    if (!form) { return; }
    form.addEventListener("submit", function () {
      var parts = Array.prototype.map.call(
        form.querySelectorAll("input[name=risk_class_part]:checked"), function (box) { return box.value; });
      form.querySelector("input[name=risk_class]").value = parts.join(",");
      Array.prototype.forEach.call(form.querySelectorAll("input[name=risk_class_part]"), function (box) {
        box.disabled = true;
      });
      Array.prototype.forEach.call(form.elements, function (el) {
        if (el.name && !el.value) { el.disabled = true; }
      });
    });
  }

  function setupImageLink() {
    var link = document.getElementById("riskmap-png");
    if (!link) { return; }
    function update() {
      var b = map.getBounds();
      var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) {
        return v.toFixed(5);
      }).join(",");
      var params = new URLSearchParams(config.urls.query);
      params.delete("bbox");
      params.set("bbox", bbox);
      link.href = config.urls.image + "?" + params.toString();
    }
    map.on("moveend", update);
    update();
  }

  function showSummary() {
    var box = document.getElementById("riskmap-summary");
    if (!box || !config.urls.summary) { return; }
    fetch(config.urls.summary, { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (s) {
        var exposed = s.exposures.map(function (e) {
          var n = 0;
          Object.keys(e.schools_by_class).forEach(function (c) { if (c !== "0") { n += e.schools_by_class[c]; } });
          return "<li>" + esc(e.name) + ": " + esc(n) + "</li>";
        }).join("");
        var classes = RISK_ORDER.map(function (c) {
          return "<li><span class=\"swatch dot\" style=\"background:" + esc(config.riskColours[c]) + "\"></span>" +
            esc(config.labels.risk[c]) + ": " + esc(s.schools["schools_" + c]) + "</li>";
        }).join("");
        box.innerHTML = "<p>" + esc(label("open_schools")) + ": <strong>" + esc(s.schools.open) + "</strong> · " +
          esc(label("services")) + ": <strong>" + esc(s.services.total) + "</strong></p><ul>" + classes +
          "</ul><p>" + esc(label("learners_at_risk")) + ": <strong>" + esc(s.schools.learners_at_risk) +
          "</strong></p>" + (exposed ? "<p>" + esc(label("exposed")) + "</p><ul>" + exposed + "</ul>" : "");
      });
  }

  window.SalaSafe = {
    setup: function (leafletMap, pageConfig) {
      map = leafletMap;
      config = pageConfig;
      [["salasafe-areas", 410], ["salasafe-hazards", 420], ["salasafe-services", 640],
        ["salasafe-schools", 650]].forEach(function (pane) {
        map.createPane(pane[0]).style.zIndex = pane[1];
      });
      map.setMaxBounds(L.latLngBounds([[5, 95], [20, 115]]));
    },

    vectorLayer: function (kind, url) {
      var layer = L.vectorGrid.protobuf(url, {
        // SVG for clickable layers: canvas tiles sit in Leaflet's tile container,
        // which takes no pointer events, so their features could not be clicked.
        rendererFactory: POPUPS[kind] ? L.svg.tile : L.canvas.tile,
        vectorTileLayerStyles: STYLES[kind],
        interactive: POPUPS[kind] !== null,
        pane: PANES[kind],
        maxNativeZoom: 16,
        attribution: "SalaSafe"
      });
      layer.salasafeKind = kind;
      layer.loadedFeatures = 0;
      layer.on("tileload", function () { layer.loadedTiles = (layer.loadedTiles || 0) + 1; });
      if (POPUPS[kind]) {
        layer.on("click", function (e) {
          var p = e.layer.properties;
          // VectorGrid's SVG tiles give the DOM event but no latlng.
          var latlng = e.latlng || map.mouseEventToLatLng(e.originalEvent);
          if (kind === "schools" && p.count !== undefined && map.getZoom() < 11) {
            map.setView(latlng, Math.min(map.getZoom() + 2, 11));
            return;
          }
          L.popup({ maxWidth: 320 }).setLatLng(latlng).setContent(POPUPS[kind](p)).openOn(map);
        });
      }
      return layer;
    },

    finish: function (leafletMap, bounds) {
      if (bounds) { leafletMap.fitBounds(bounds, { padding: [20, 20] }); }
      setupDraw();
      setupUpload();
      setupSearch();
      setupFilters();
      setupImageLink();
      showSummary();
      window.salasafeMap = leafletMap;
    }
  };
}());
