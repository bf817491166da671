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

/* Comparison maps show the same page as the analysis' own map: copy it instead of
   storing every map twice in the file. */
document.querySelectorAll("iframe[data-srcdoc-from]").forEach(function (frame) {
  var source = document.getElementById(frame.dataset.srcdocFrom);
  if (source) { frame.srcdoc = source.getAttribute("srcdoc"); }
});
