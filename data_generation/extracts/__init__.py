"""One extract writer per source system: the simulated world, day by day, as its raw tables.

`app_db` (users, subscriptions) and `app_db_usage` (usage_events), `stripe` (customers,
invoices, invoice line items, charges: billing cycles, proration, dunning, refunds, currencies),
`segment` (tracks, identifies), `salesforce` (accounts, opportunities) and `marketing`
(ad_spend). Each builder takes (World, Day) and returns the day's partition as a polars frame in
the raw contract's columns (data_generation.schema), with the system's own delivery habits: its
ids (`ids`), its landing times, its duplicates and late batches. `frames` holds the helpers
they share (the `Day` being built, typed Series, landing times).
"""
