// Django's two-list picker (SelectFilter2.js) labels its filter box with an icon that is a
// <span aria-label>, which ARIA does not allow on a span (axe aria-prohibited-attr). As an
// image the icon may carry the label, and the filter box keeps its name. Runs after Django's
// own "load" handler, which builds the picker.
window.addEventListener("load", () => {
  for (const icon of document.querySelectorAll("span.search-label-icon[aria-label]")) {
    icon.setAttribute("role", "img");
  }
});
