#!/usr/bin/env bash
# Compile the NHS.UK frontend CSS and copy its JS and assets into static/dist/, with the plotly.js bundle for charts.
# Expects node_modules to be installed already (npm ci).
set -euo pipefail

cd "$(dirname "$0")/.."

src=node_modules/nhsuk-frontend/dist/nhsuk
out=static/dist

rm -rf "$out"
mkdir -p "$out/css" "$out/js"

npx sass --pkg-importer=node --style=compressed --no-source-map \
  static/scss/main.scss "$out/css/main.css"

cp -R "$src/assets" "$out/assets"
# The source map comes too: hashed static storage follows the sourceMappingURL comment.
cp "$src/nhsuk-frontend.min.js" "$src/nhsuk-frontend.min.js.map" "$out/js/"

# Charts: the cartesian plotly.js bundle (bar, box, heatmap, histogram, scatter; ~500 KB gzip) rather than the full
# one (~1.4 MB gzip) to keep a dashboard's first load under 600 KB. It is served from our own static files, never a CDN.
cp node_modules/plotly.js-cartesian-dist-min/plotly-cartesian.min.js "$out/js/plotly.min.js"

# API documentation (/api/docs/): Swagger UI's stylesheet and standalone bundle, served from our own static files.
# The stylesheet's source map comes too: hashed static storage follows its sourceMappingURL comment.
mkdir -p "$out/swagger"
cp node_modules/swagger-ui-dist/swagger-ui.css node_modules/swagger-ui-dist/swagger-ui.css.map \
  node_modules/swagger-ui-dist/swagger-ui-bundle.js "$out/swagger/"
