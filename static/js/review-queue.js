// The review queue refreshes itself (a file, not an inline script: the CSP allows none).
(function () {
  const body = document.querySelector("#review-queue tbody");
  const status = document.getElementById("queue-status");
  const table = document.getElementById("review-queue");
  const detail = table.dataset.detailUrl.replace(/0\/$/, "");
  function cell(text) { const td = document.createElement("td"); td.textContent = text; return td; }
  function render(alerts) {
    body.replaceChildren();
    if (!alerts.length) { const tr = document.createElement("tr"); tr.className = "empty"; const td = cell("Nothing waiting."); td.colSpan = 7; td.className = "muted"; tr.append(td); body.append(tr); return; }
    for (const a of alerts) {
      const tr = document.createElement("tr"); tr.dataset.alert = a.id;
      const link = document.createElement("a"); link.href = detail + a.id + "/"; link.textContent = "Alert #" + a.id;
      const first = document.createElement("td"); first.append(link); tr.append(first);
      tr.append(cell(a.deployment + " · " + a.camera), cell(a.subject_reference), cell(a.score),
                cell(a.first_seen), cell(a.sightings), cell(a.my_decision || "awaiting you"));
      body.append(tr);
    }
  }
  async function poll() {
    try {
      const response = await fetch(table.dataset.pollUrl, {headers: {"Accept": "application/json"}, cache: "no-store"});
      if (response.ok) { render((await response.json()).alerts); status.textContent = "Updated " + new Date().toLocaleTimeString("en-GB"); }
      else { status.textContent = "Update failed (" + response.status + ")"; }
    } catch (e) { status.textContent = "Offline; retrying"; }
    setTimeout(poll, 2000);
  }
  setTimeout(poll, 2000);
})();
