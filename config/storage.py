from whitenoise.storage import CompressedManifestStaticFilesStorage


class HashedStaticStorage(CompressedManifestStaticFilesStorage):
    """Hashed, compressed static files; ES-module imports are rewritten to the hashed names too,
    so a deploy never mixes an old nhsuk-frontend module with a new page script."""

    support_js_module_import_aggregation = True
