"""Report building blocks with no dependencies: `recoup.report.svg` draws charts as inline SVG strings, so a
report stays one self-contained file (no JavaScript, no external assets) and renders the same every time."""
