"""The summary tables (reports.models) and how they are kept: `sql` holds the set-based statements, `tables` runs them
(a rebuild, one assessment, the areas of a cycle) in one transaction each, `refresh` carries out maturity's refresh
marks and records each run, `versions` keys the cached dashboards. Celery's tasks are in reports.tasks."""
