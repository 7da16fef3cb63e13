"""What each dashboard shows (`sections`, read from the summaries through the scoped read layer and cached) and its
charts (`charts`, plain figures with their tables and CSV). The pages that show them are assembled in config.pages."""
