"""Accountability reports: every figure computed from records the reader may see.

Governance defines what a report is (``registry``: kinds of report subject, figure providers) and
computes its own figures (agreements, images, erasures, holds, breaches); recognition registers the
figures about deployments, faces scanned, alerts, reviews, disclosures and outcomes from its
AppConfig. Governance never imports recognition.
"""
