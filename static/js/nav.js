// The compact menu below 1200 px: the "Menu" button (a disclosure: aria-expanded, aria-controls) shows and
// hides the navigation. A file, not an inline script (the CSP allows none). Without it the navigation
// simply stays open. Escape closes the menu and returns focus to the button.
(function () {
  function start() {
    const header = document.querySelector("header.top");
    const button = document.getElementById("nav-toggle");
    const nav = document.getElementById("site-nav");
    if (!header || !button || !nav) return;
    header.classList.add("nav-js");
    button.hidden = false;
    function set(open) {
      header.classList.toggle("nav-open", open);
      button.setAttribute("aria-expanded", open ? "true" : "false");
    }
    button.addEventListener("click", function () { set(button.getAttribute("aria-expanded") !== "true"); });
    header.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") { set(false); button.focus(); }
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
