// The review queue refreshes itself (a file, not an inline script: the CSP allows none), and can be
// worked from the keyboard: j/↓ and k/↑ move between alerts, Enter opens the focused one. A refresh
// that changes nothing leaves the rows alone, and one that does keeps focus on the same alert, so a
// keyboard user is never thrown back to the top of the page every two seconds.
(function () {
  const table = document.getElementById("review-queue");
  if (!table) return;
  const body = table.querySelector("tbody");
  const status = document.getElementById("queue-status");
  const detail = table.dataset.detailUrl.replace(/0\/$/, "");
  const labels = Array.from(table.querySelectorAll("thead th")).map((th) => th.textContent);
  let last = null;
  function cell(text, index) {
    const td = document.createElement("td"); td.textContent = text == null ? "" : text;
    td.dataset.label = labels[index]; return td;
  }
  function links() { return Array.from(body.querySelectorAll("tr[data-alert] a")); }
  function render(alerts) {
    const focused = document.activeElement && document.activeElement.closest("tr[data-alert]");
    const keep = focused ? focused.dataset.alert : null;
    body.replaceChildren();
    if (!alerts.length) {
      const tr = document.createElement("tr"); tr.className = "empty";
      const td = cell("Nothing waiting.", 0); td.colSpan = 8; td.className = "muted"; tr.append(td); body.append(tr); return;
    }
    for (const a of alerts) {
      const tr = document.createElement("tr"); tr.dataset.alert = a.id;
      const link = document.createElement("a"); link.href = detail + a.id + "/"; link.textContent = "Alert #" + a.id;
      const first = cell("", 0); first.append(link); tr.append(first);
      tr.append(cell(a.deployment + " · " + a.camera, 1), cell(a.subject_reference, 2), cell(a.score_text, 3),
                cell(a.first_seen, 4), cell(a.sightings, 5), cell(a.shown_text, 6), cell(a.my_decision_text, 7));
      body.append(tr);
      if (keep && String(a.id) === keep) link.focus();
    }
  }
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    const step = { j: 1, ArrowDown: 1, k: -1, ArrowUp: -1 }[event.key];
    if (!step) return;
    const all = links(); if (!all.length) return;
    const index = all.indexOf(document.activeElement);
    const next = index < 0 ? (step > 0 ? 0 : all.length - 1) : Math.min(all.length - 1, Math.max(0, index + step));
    all[next].focus(); event.preventDefault();
  });
  async function poll() {
    try {
      const response = await fetch(table.dataset.pollUrl, {headers: {"Accept": "application/json"}, cache: "no-store"});
      if (response.ok) {
        const text = await response.text();
        if (text !== last) { last = text; render(JSON.parse(text).alerts); }
        status.textContent = "Updated " + new Date().toLocaleTimeString("en-GB");
      } else { status.textContent = "Update failed (" + response.status + ")"; }
    } catch (e) { status.textContent = "Offline; retrying"; }
    setTimeout(poll, 2000);
  }
  setTimeout(poll, 2000);
})();
