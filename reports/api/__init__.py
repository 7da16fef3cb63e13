"""The REST API at /api/v1/: reference data, assessments (read, and answers written through maturity.actions) and
the export datasets, each reading only what its user may see. Schema at /api/schema/, documentation at /api/docs/."""
