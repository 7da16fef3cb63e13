#!/usr/bin/env bash
# Compile the NHS.UK frontend CSS and copy its JS and assets into static/dist/, and bundle plotly.js for the charts.
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

# Charts: plotly.js with only the trace types reports/dashboards/charts.py draws, bundled and minified by esbuild
# from the pinned npm package into one classic script that defines window.Plotly (about 1.2 MB, 420 KB gzipped,
# against 1.5 MB and 500 KB for the cartesian distribution). Served from our own static files, never a CDN;
# static/js/charts.js loads it on pages that have a chart to draw. The core brings scatter; maps' stylesheet, which
# it requires only for map traces, is left out (empty loader). tests/reports/test_charts.py keeps `traces` equal to
# the trace types charts.py uses.
traces=(bar box heatmap histogram)
plotly_version=$(node -p 'require("plotly.js/package.json").version')
entry='const Plotly = require("plotly.js/lib/core");'
for trace in "${traces[@]}"; do
  entry+=$'\n'"Plotly.register(require(\"plotly.js/lib/$trace\"));"
done
entry+=$'\nmodule.exports = Plotly;'
npx esbuild --bundle --minify --format=iife --global-name=Plotly --target=es2019 \
  --define:global=window --loader:.css=empty --legal-comments=eof --log-level=warning \
  --banner:js="/*! plotly.js v$plotly_version (scatter ${traces[*]}) | MIT License | Copyright 2012-2026 Plotly, Inc. */" \
  --sourcefile=plotly-bundle.js --outfile="$out/js/plotly.min.js" <<<"$entry"

# API documentation (/api/docs/): Swagger UI's stylesheet and standalone bundle, served from our own static files.
# The stylesheet's source map comes too: hashed static storage follows its sourceMappingURL comment.
mkdir -p "$out/swagger"
cp node_modules/swagger-ui-dist/swagger-ui.css node_modules/swagger-ui-dist/swagger-ui.css.map \
  node_modules/swagger-ui-dist/swagger-ui-bundle.js "$out/swagger/"
