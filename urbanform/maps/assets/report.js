/* Sort a table by the clicked header: numbers by data-sort, text otherwise; blanks last. */
document.querySelectorAll("table.uf-sortable thead th").forEach(function (th) {
  th.addEventListener("click", function () {
    var col = th.cellIndex, body = th.closest("table").tBodies[0], asc = th.dataset.dir !== "asc";
    th.parentNode.querySelectorAll("th").forEach(function (h) { delete h.dataset.dir; });
    th.dataset.dir = asc ? "asc" : "desc";
    var key = function (r) { var c = r.cells[col]; return c.dataset.sort !== undefined ? c.dataset.sort : c.textContent.trim(); };
    Array.from(body.rows).sort(function (a, b) {
      var x = key(a), y = key(b);
      if (x === "" || y === "") { return (x === "") - (y === ""); }
      var nx = Number(x), ny = Number(y);
      var d = (isNaN(nx) || isNaN(ny)) ? x.localeCompare(y) : nx - ny;
      return asc ? d : -d;
    }).forEach(function (r) { body.appendChild(r); });
  });
});

/* Maps are drawn when they come near the screen. The report holds one copy of Leaflet
   and of the background context (#uf-map-assets, #uf-map-context) and each map's page
   without them (#map-N-page); a map's frame gets its page with both put in. Comparison
   maps show the same page as the analysis' own map (data-map names it). */
(function () {
  var assets = null, context = null;
  function json(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }
  function shared() {
    if (assets === null) {
      assets = json("uf-map-assets") || "";
      var ctx = document.getElementById("uf-map-context");
      context = ctx ? ctx.textContent : "null";
    }
  }
  /* one map at a time: side-by-side maps that come into view together do not slow
     each other down; the next starts when the previous page has loaded */
  var queue = [], busy = false;
  function next() {
    busy = false;
    while (queue.length && !busy) { start(queue.shift()); }
  }
  function start(frame) {
    var page = json(frame.dataset.map + "-page");
    if (!page) { return; }
    busy = true;
    frame.addEventListener("load", function () { shown_(frame); next(); }, {once: true});
    page = page
      .replace("<!--urbanform:assets-->", function () { return assets; })
      .replace('"urbanform:context"', function () { return context; });
    var end = page.lastIndexOf("</body>");
    frame.srcdoc = end < 0 ? page + ZOOM : page.slice(0, end) + ZOOM + page.slice(end);
  }
  /* The zoom hook: a map page in the report listens for {urbanform: "zoom", ring} from
     the report, fits its map to the ring (an H3 cell's outline, [[lat, lng], ...]) and
     outlines it; without a ring it only shows the whole map again. */
  var TAG = "script";  /* the tags are built so that no script tag stands in this file */
  var ZOOM = "<" + TAG + ">(function () {var mark = null;" +
    "window.addEventListener('message', function (e) {" +
    "var d = e.data; if (e.source !== window.parent || !d || d.urbanform !== 'zoom') { return; }" +
    "var map = null; Object.keys(window).forEach(function (k) {" +
    "if (!map && k.indexOf('map_') === 0 && window[k] instanceof L.Map) { map = window[k]; } });" +
    "if (!map || !d.ring) { return; }" +
    "(function apply() {" +
    "if (!map._ufFitted || map._animatingZoom) { setTimeout(apply, 30); return; }" +  /* after the first fit */
    "if (mark) { map.removeLayer(mark); }" +
    "mark = L.polygon(d.ring, {color: '#c0392b', weight: 3, fill: false, interactive: false}).addTo(map);" +
    "map.invalidateSize(false);" +  /* the frame may have been resized since the first fit */
    "map.fitBounds(mark.getBounds(), {maxZoom: 17, animate: false});" +
    "window.ufZoomed = d.ring; })();});})();<" + "/" + TAG + ">";
  function shown_(frame) {
    frame.dataset.ready = "1";
    if (frame.dataset.zoom) { post(frame, JSON.parse(frame.dataset.zoom)); }
  }
  function post(frame, ring) {
    frame.contentWindow.postMessage({urbanform: "zoom", ring: ring}, "*");
    delete frame.dataset.zoom;
  }
  /* a row with data-zoom (a map's id) brings that map into view; with data-ring
     (a cell's outline) it also zooms the map to the cell */
  document.querySelectorAll("tr.uf-zoom").forEach(function (row) {
    row.addEventListener("click", function () {
      var frame = document.getElementById(row.dataset.zoom);
      if (!frame) { return; }
      document.querySelectorAll("tr.uf-zoomed").forEach(function (r) { r.classList.remove("uf-zoomed"); });
      row.classList.add("uf-zoomed");
      frame.scrollIntoView({block: "center"});
      var ring = row.dataset.ring ? JSON.parse(row.dataset.ring) : null;
      if (!ring) { load(frame); return; }
      if (frame.dataset.ready) { post(frame, ring); return; }
      frame.dataset.zoom = JSON.stringify(ring);
      load(frame);
    });
  });
  function load(frame) {
    if (frame.dataset.loaded) { return; }
    frame.dataset.loaded = "1";
    shared();
    queue.push(frame);
    if (!busy) { next(); }
  }
  setTimeout(shared, 0);  /* read the shared copies once the page is shown */
  var frames = Array.prototype.slice.call(document.querySelectorAll("iframe[data-map]"));
  if (!("IntersectionObserver" in window)) { frames.forEach(load); return; }
  var near = new IntersectionObserver(function (entries) {
    entries.forEach(function (e) {
      if (e.isIntersecting) { near.unobserve(e.target); load(e.target); }
    });
  }, {rootMargin: "400px 0px"});
  /* a map on screen goes before the ones only near it */
  var shown = new IntersectionObserver(function (entries) {
    entries.forEach(function (e) {
      if (!e.isIntersecting) { return; }
      shown.unobserve(e.target);
      var at = queue.indexOf(e.target);
      if (at > 0) { queue.splice(at, 1); queue.unshift(e.target); }
    });
  });
  frames.forEach(function (f) { near.observe(f); shown.observe(f); });
})();
