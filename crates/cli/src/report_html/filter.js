// The report's filter: hides the timeline rows and table rows of tasks that do not match.
// Reads and writes the page's address (#failed,retried,critical,text=...) so a view can be shared.
(function () {
  var form = document.getElementById("filter");
  var rows = document.querySelectorAll(".task-row, table.tasks tr[data-task]");
  function fromHash() {
    var parts = decodeURIComponent(location.hash.slice(1)).split(",");
    parts.forEach(function (part) {
      if (part === "failed" || part === "retried" || part === "critical") {
        form.elements[part].checked = true;
      } else if (part.indexOf("text=") === 0) {
        form.elements.text.value = part.slice(5);
      }
    });
  }
  function apply() {
    var failed = form.elements.failed.checked;
    var retried = form.elements.retried.checked;
    var critical = form.elements.critical.checked;
    var text = form.elements.text.value.toLowerCase();
    var shown = 0;
    rows.forEach(function (row) {
      var state = row.getAttribute("data-state");
      var ok = (!failed || state === "failed" || state === "timed_out") &&
        (!retried || row.getAttribute("data-retried") === "true") &&
        (!critical || row.getAttribute("data-critical") === "true") &&
        (!text || row.getAttribute("data-task").toLowerCase().indexOf(text) >= 0);
      row.hidden = !ok;
      if (ok && row.classList.contains("task-row")) shown += 1;
    });
    var total = document.querySelectorAll(".task-row").length;
    form.elements.shown.value = shown === total ? "" : shown + " of " + total + " tasks";
    var state = ["failed", "retried", "critical"].filter(function (name) {
      return form.elements[name].checked;
    });
    if (text) state.push("text=" + text);
    var hash = state.length ? "#" + encodeURIComponent(state.join(",")).replace(/%2C/g, ",") : "";
    if (hash !== location.hash && history.replaceState) {
      history.replaceState(null, "", hash || location.pathname);
    }
  }
  fromHash();
  form.addEventListener("input", apply);
  apply();
})();
