// The live review desk (a file, not an inline script: the CSP allows none). The queue refreshes itself
// every two seconds from its JSON endpoint; a new alert is announced (a status line read out by screen
// readers, an outline on its row, the count in the tab's title, and a short tone if the reviewer turned
// the sound on); it can be worked from the keyboard: j/↓ and k/↑ move between alerts, Enter opens the
// focused one. A refresh that changes nothing leaves the rows alone, one that does keeps focus on the same
// alert, and keeps each row's thumbnails: an image is fetched (and recorded as shown) once per page, not on
// every refresh.
(function () {
  const table = document.getElementById("review-queue");
  if (!table) return;
  const body = table.querySelector("tbody");
  const status = document.getElementById("queue-status");
  const news = document.getElementById("queue-news");
  const sound = document.getElementById("queue-sound");
  const detail = table.dataset.detailUrl.replace(/0\/$/, "");
  const labels = Array.from(table.querySelectorAll("thead th")).map((th) => th.textContent);
  const title = document.title;
  const SOUND_KEY = "oversight.reviewQueue.sound";
  let last = null;
  let unseen = 0;
  // The thumbnails already in the page, by alert: reused on every refresh.
  const faces = new Map();
  for (const span of body.querySelectorAll("tr[data-alert] .queue-faces")) {
    faces.set(span.closest("tr").dataset.alert, span);
  }
  const known = new Set(faces.keys());
  if (sound) {
    try { sound.checked = window.localStorage.getItem(SOUND_KEY) === "on"; } catch (e) { /* storage off */ }
    sound.addEventListener("change", function () {
      try { window.localStorage.setItem(SOUND_KEY, sound.checked ? "on" : "off"); } catch (e) { /* storage off */ }
    });
  }
  function cell(text, index) {
    const td = document.createElement("td"); td.textContent = text == null ? "" : text;
    td.dataset.label = labels[index]; return td;
  }
  function image(src, alt, kind) {
    const img = document.createElement("img");
    img.src = src; img.alt = alt; img.width = 48; img.height = 48; img.dataset.image = kind; return img;
  }
  function facesFor(a) {
    const key = String(a.id);
    if (faces.has(key)) return faces.get(key);
    const span = document.createElement("span"); span.className = "queue-faces";
    if (a.crop_thumbnail) span.append(image(a.crop_thumbnail, "Camera crop of alert #" + a.id, "crop"));
    if (a.reference_thumbnail) {
      span.append(image(a.reference_thumbnail, "Watchlist image of alert #" + a.id, "reference"));
    } else {
      const none = document.createElement("span"); none.className = "small muted"; none.dataset.image = "none";
      none.textContent = "no watchlist image for you"; span.append(none);
    }
    faces.set(key, span); return span;
  }
  function links() { return Array.from(body.querySelectorAll("tr[data-alert] a")); }
  function render(alerts, arrived) {
    const focused = document.activeElement && document.activeElement.closest("tr[data-alert]");
    const keep = focused ? focused.dataset.alert : null;
    body.replaceChildren();
    if (!alerts.length) {
      const tr = document.createElement("tr"); tr.className = "empty";
      const td = cell("Nothing waiting.", 0); td.colSpan = labels.length; td.className = "muted"; tr.append(td);
      body.append(tr); return;
    }
    for (const a of alerts) {
      const tr = document.createElement("tr"); tr.dataset.alert = a.id;
      if (a.overdue) tr.classList.add("overdue");
      if (arrived.has(String(a.id))) tr.classList.add("arrived");
      const link = document.createElement("a"); link.href = detail + a.id + "/"; link.textContent = "Alert #" + a.id;
      const first = cell("", 0); first.append(link); tr.append(first);
      const pictures = cell("", 1); pictures.append(facesFor(a)); tr.append(pictures);
      tr.append(cell(a.deployment + " · " + a.camera, 2), cell(a.subject_reference, 3), cell(a.score_text, 4),
                cell(a.first_seen, 5), cell(a.waiting_text, 6), cell(a.sightings, 7), cell(a.shown_text, 8),
                cell(a.my_decision_text, 9));
      body.append(tr);
      if (keep && String(a.id) === keep) link.focus();
    }
  }
  function tone() {
    if (!sound || !sound.checked) return;
    try {
      const Context = window.AudioContext || window.webkitAudioContext;
      const context = new Context(); const oscillator = context.createOscillator(); const gain = context.createGain();
      oscillator.frequency.value = 880; gain.gain.value = 0.08;
      oscillator.connect(gain); gain.connect(context.destination);
      oscillator.start(); oscillator.stop(context.currentTime + 0.25);
      oscillator.onended = function () { context.close(); };
    } catch (e) { /* no audio: the visual cue remains */ }
  }
  function announce(arrived) {
    if (!arrived.size) return;
    const ids = Array.from(arrived).map((id) => "#" + id).join(", ");
    news.textContent = (arrived.size === 1 ? "New alert " : arrived.size + " new alerts ") + ids +
      " waiting for review (" + new Date().toLocaleTimeString("en-GB") + ").";
    if (document.hidden) { unseen += arrived.size; document.title = "(" + unseen + " new) " + title; }
    tone();
  }
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) { unseen = 0; document.title = title; }
  });
  const shortcuts = document.getElementById("single-key-shortcuts");
  const SHORTCUTS_KEY = "oversight.singleKeyShortcuts";  // shared with the alert page (alert-review.js)
  if (shortcuts) {
    try { shortcuts.checked = window.localStorage.getItem(SHORTCUTS_KEY) !== "off"; } catch (e) { /* storage off */ }
    shortcuts.addEventListener("change", function () {
      try { window.localStorage.setItem(SHORTCUTS_KEY, shortcuts.checked ? "on" : "off"); } catch (e) { /* storage off */ }
    });
  }
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    if (shortcuts && !shortcuts.checked && /^[jk]$/.test(event.key)) return;  // arrows stay (not single characters)
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
        if (text !== last) {
          last = text;
          const alerts = JSON.parse(text).alerts;
          const arrived = new Set(alerts.map((a) => String(a.id)).filter((id) => !known.has(id)));
          arrived.forEach((id) => known.add(id));
          const current = new Set(alerts.map((a) => String(a.id)));
          for (const id of Array.from(faces.keys())) if (!current.has(id)) faces.delete(id);
          render(alerts, arrived);
          announce(arrived);
        }
        status.textContent = "Updated " + new Date().toLocaleTimeString("en-GB");
      } else { status.textContent = "Update failed (" + response.status + ")"; }
    } catch (e) { status.textContent = "Offline; retrying"; }
    setTimeout(poll, 2000);
  }
  setTimeout(poll, 2000);
})();
