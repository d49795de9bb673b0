// The alert page's two faces come from their own endpoints; the server records each one as it is sent to
// this reviewer. Once the browser has received an image, the line that said "not yet shown to you" says so.
(function () {
  const pairs = [["probe-crop", "shown-crop"], ["watchlist-thumbnail", "shown-reference"]];
  for (const [imageId, lineId] of pairs) {
    const image = document.getElementById(imageId);
    const line = document.getElementById(lineId);
    if (!image || !line || line.dataset.shown === "yes") continue;
    const mark = function () {
      if (image.naturalWidth > 0) line.textContent = line.dataset.label + ": shown to you just now";
    };
    if (image.complete) mark(); else image.addEventListener("load", mark);
  }
})();

// Keyboard-first review (documented on the page, #review-keys): c moves focus to "Confirm", r to the reason
// for rejecting, q goes back to the review queue. A shortcut only moves focus or navigates: the decision is
// still made by pressing the focused button (Enter or Space), so a stray key never decides an alert. Keys are
// ignored while typing in a field, with a modifier held, or when the reviewer turned single-key shortcuts off
// (WCAG 2.1.4: they can clash with screen readers and speech input).
(function () {
  const keys = document.getElementById("review-keys");
  if (!keys) return;
  const toggle = document.getElementById("single-key-shortcuts");
  const STORE = "oversight.singleKeyShortcuts";
  if (toggle) {
    try { toggle.checked = window.localStorage.getItem(STORE) !== "off"; } catch (e) { /* storage off */ }
    toggle.addEventListener("change", function () {
      try { window.localStorage.setItem(STORE, toggle.checked ? "on" : "off"); } catch (e) { /* storage off */ }
    });
  }
  const targets = {
    c: function () { return document.getElementById("confirm"); },
    r: function () { return document.querySelector("#reject-form select[name=reason]"); },
  };
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || event.repeat) return;
    if (toggle && !toggle.checked) return;
    const target = event.target;
    const typing = target && (target.isContentEditable || /^(TEXTAREA|SELECT)$/.test(target.tagName) ||
      (target.tagName === "INPUT" && !/^(checkbox|radio|button|submit)$/.test(target.type)));
    if (typing) return;
    const key = event.key.toLowerCase();
    if (key === "q" && keys.dataset.queueUrl) { window.location.assign(keys.dataset.queueUrl); event.preventDefault(); return; }
    const find = targets[key];
    const element = find && find();
    if (!element) return;
    element.scrollIntoView({block: "center"});
    element.focus();
    event.preventDefault();
  });
})();
