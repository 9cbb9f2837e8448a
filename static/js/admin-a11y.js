// Django's two-list picker (SelectFilter2.js) labels its filter box with an icon that is a
// <span aria-label>, which ARIA does not allow on a span (axe aria-prohibited-attr). As an
// image the icon may carry the label, and the filter box keeps its name. Runs after Django's
// own "load" handler, which builds the picker.
window.addEventListener("load", () => {
  for (const icon of document.querySelectorAll("span.search-label-icon[aria-label]")) {
    icon.setAttribute("role", "img");
  }
});

// The autocomplete boxes (Select2) show the choice in a role="textbox" span with no name
// (axe aria-input-field-name): named by the field's label, then by the choice it shows.
// Select2 builds the boxes when jQuery is ready, which may come after "load", and again for
// an inline row added later: each new box is named as it appears.
const nameAutocompleteBoxes = () => {
  for (const shown of document.querySelectorAll(
    ".select2-selection__rendered[role=textbox]:not([aria-labelledby])",
  )) {
    const select = shown.closest(".select2-container")?.previousElementSibling;
    const label = select?.id ? document.querySelector(`label[for="${select.id}"]`) : null;
    if (!label) continue;
    label.id ||= `${select.id}-label`;
    shown.setAttribute("aria-labelledby", `${label.id} ${shown.id}`);
  }
};
new MutationObserver(nameAutocompleteBoxes).observe(document.documentElement, {
  childList: true,
  subtree: true,
});
