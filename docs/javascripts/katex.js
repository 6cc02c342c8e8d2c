// Render the formulas that pymdownx.arithmatex (generic mode) leaves in the page as
// \( ... \) inside <span class="arithmatex"> and \[ ... \] inside <div class="arithmatex">,
// with the KaTeX files the site serves itself. `document$` is mkdocs-material's page
// observable, so formulas also render after instant navigation.
document$.subscribe(({ body }) => {
  for (const element of body.querySelectorAll(".arithmatex")) {
    const text = element.textContent.trim();
    const display = text.startsWith("\\[");
    katex.render(text.slice(2, -2), element, { displayMode: display, throwOnError: false });
  }
});
