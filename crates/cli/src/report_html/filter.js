// The report's filter: hides the timeline rows and table rows of tasks that do not match.
// Reads and writes the page's address (#failed,retried,critical,text=...) so a view can be shared.
(function () {
  var form = document.getElementById("filter");
  var rows = document.querySelectorAll(".task-row, table.tasks tr[data-task]");
  function fromHash() {
    // "#failed,retried,critical,text=<encoded text>": the text last, encoded on its own, so it
    // may hold commas; a malformed address is ignored, not an error.
    var hash = location.hash.slice(1);
    var at = hash.indexOf("text=");
    var flags = (at >= 0 ? hash.slice(0, at) : hash).split(",");
    flags.forEach(function (flag) {
      if (flag === "failed" || flag === "retried" || flag === "critical") {
        form.elements[flag].checked = true;
      }
    });
    if (at >= 0) {
      try {
        form.elements.text.value = decodeURIComponent(hash.slice(at + 5));
      } catch (e) {
        form.elements.text.value = "";
      }
    }
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
    if (form.elements.text.value) state.push("text=" + encodeURIComponent(form.elements.text.value));
    var hash = state.length ? "#" + state.join(",") : "";
    if (hash !== location.hash && history.replaceState) {
      history.replaceState(null, "", hash || location.pathname);
    }
  }
  fromHash();
  form.addEventListener("input", apply);
  apply();
})();
