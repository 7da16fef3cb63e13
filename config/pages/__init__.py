"""The organisation pages (England, a region, an ICS, a trust) and the header's navigation, assembled in one place at
the top of the apps: each page puts together the organisation details (trusts), the assessments (maturity) and the
dashboard (reports) from their QuerySets and pure functions. No app's view imports another app's views."""
