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
