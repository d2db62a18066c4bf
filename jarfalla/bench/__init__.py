"""`make bench`: the product at municipal and national scale, measured against a baseline.

`python -m jarfalla.bench` seeds scale data with seed_demo into its own PostgreSQL database,
starts the production shape on 127.0.0.1 (gunicorn, Redis, one Celery worker, a local SMTP
sink), drives it with wrk and prints one table; docs/performance.md explains the scenarios.

Modules: ``scenarios`` (what is measured, declaratively), ``report`` (ratios, targets, table,
JSON; pure), ``safety`` (127.0.0.1 only), ``run`` (the orchestration), ``world`` (users,
sessions and the ids the scenarios need), ``loadgen`` (wrk and a stdlib fallback),
``reminders`` (the reminder sweep against an SMTP sink), ``tasks`` (the PDF measurement inside
the Celery worker), ``smtpsink`` (the counting SMTP server) and ``views``/``urls`` (the baseline,
mounted only when ``BENCH=1``).
"""
