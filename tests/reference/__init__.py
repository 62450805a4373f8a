"""Independent references: the headline metrics recomputed in Python (polars) straight from the
raw Parquet and the seeds, never from the warehouse, by the definitions of
techflow_dbt/models/METRICS.md. Tests compare the marts and the semantic layer with them.

- raw:         reading raw tables, latest versions, real users and customers.
- mrr:         MRR per customer x product x day, and its daily movements (product and customer).
- retention:   month-start vs month-end cohorts: NRR, GRR, logo churn, trailing 12 months, and
               the product-level variants.
- trials:      trial outcomes and trial-to-paid conversion by start cohort.
- revenue:     cash in USD by the FX rules (each charge and refund at its own month's rate).
- acquisition: sessions, first touch, CAC and ROAS by acquisition month and channel.
- cohorts:     signup-cohort retention (accounts active by month since signup).
"""
