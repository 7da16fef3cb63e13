from django.db import migrations, models

# Rows written before evidence could be verified: none is verified, so a domain's evidence is self-asserted when its
# answer has a note or a link, and a return's verified share is 0. The area statistics of verified evidence come
# with the next rebuild (nightly, or manage.py rebuild_summaries).
EXISTING_DOMAIN_EVIDENCE = """
UPDATE reports_domainscore SET evidence = 'self-asserted'
WHERE EXISTS (
    SELECT 1 FROM maturity_domainanswer x JOIN maturity_domain d ON d.id = x.domain_id
    WHERE x.assessment_id = reports_domainscore.assessment_id AND d.code = reports_domainscore.domain_code
      AND (x.evidence_note <> '' OR x.evidence_link <> '')
)
"""
EXISTING_PILLAR_SHARE = "UPDATE reports_pillarscore SET verified_share = 0 WHERE source = 'return'"


class Migration(migrations.Migration):
    dependencies = [
        ("maturity", "0005_evidence_verification"),
        ("reports", "0008_area_stat_indicators"),
    ]

    operations = [
        migrations.AddField(
            model_name="domainscore",
            name="evidence",
            field=models.CharField(
                choices=[("verified", "verified"), ("self-asserted", "self-asserted"), ("none", "none")],
                default="none",
                help_text="verified (a reviewer verified the note or link), self-asserted (evidence given, not verified) or none (no note or link)",
                max_length=13,
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="pillarscore",
            name="verified_share",
            field=models.FloatField(
                help_text="Share (0 to 1) of the answered domains whose evidence a reviewer verified; empty for published scores, which have no domains",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="pillarscore",
            name="verified_score",
            field=models.FloatField(
                help_text="The same score over the verified answers only (overall: weighted); empty when none is verified",
                null=True,
            ),
        ),
        migrations.AlterField(
            model_name="areastat",
            name="metric_type",
            field=models.CharField(
                help_text="pillar, gap, indicator, or evidence (verified_share:<pillar> and verified_score:<pillar>)",
                max_length=10,
            ),
        ),
        migrations.RunSQL(EXISTING_DOMAIN_EVIDENCE, migrations.RunSQL.noop),
        migrations.RunSQL(EXISTING_PILLAR_SHARE, migrations.RunSQL.noop),
    ]
