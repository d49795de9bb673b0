// Progress of subject access exports (a file, not an inline script: the CSP allows none). Each row
// still being built polls its status URL and updates its bar; when ready the page reloads for the links.
(function () {
  const rows = document.querySelectorAll("tr.export");
  rows.forEach(function (row) {
    if (row.dataset.status !== "queued" && row.dataset.status !== "building") return;
    const bar = row.querySelector("progress");
    const stage = row.querySelector(".stage");
    async function poll() {
      try {
        const response = await fetch(row.dataset.statusUrl, {headers: {"Accept": "application/json"}, cache: "no-store"});
        if (response.ok) {
          const state = await response.json();
          bar.value = state.progress; bar.textContent = state.progress + "%"; stage.textContent = state.stage;
          if (state.status === "ready" || state.status === "failed") { window.location.reload(); return; }
        }
      } catch (e) { stage.textContent = "Offline; retrying"; }
      setTimeout(poll, 1500);
    }
    setTimeout(poll, 1000);
  });
})();
