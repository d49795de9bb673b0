// Labels each table cell with its column heading (data-label), so that at phone widths, where the
// stylesheet shows a table as one card per row, every value still says what it is. A file, not an
// inline script (the CSP allows none); cells a template labels itself are left alone.
(function () {
  function label(table) {
    const heads = Array.from(table.querySelectorAll(":scope > thead th")).map((th) => th.textContent.trim());
    if (!heads.length) return;
    for (const row of table.querySelectorAll(":scope > tbody > tr")) {
      let column = 0;
      for (const cell of row.children) {
        if (!cell.hasAttribute("data-label")) cell.dataset.label = cell.colSpan > 1 ? "" : heads[column] || "";
        column += cell.colSpan || 1;
      }
    }
  }
  function all() { document.querySelectorAll("main table").forEach(label); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", all); else all();
  // Tables a page redraws itself (the review queue) are labelled again when they change.
  new MutationObserver(all).observe(document.documentElement, { childList: true, subtree: true });
})();
