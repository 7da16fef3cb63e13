"""The export datasets (`datasets`, scoped by viewer), their filters (`filters`, shared with the API), the files
(`files`: CSV streamed by PostgreSQL's COPY, XLSX) and the export page (`views`, `urls`). The REST API is
reports.api."""
