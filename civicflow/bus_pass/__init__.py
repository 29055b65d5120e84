"""コミュニティバス無料乗車券: handwritten paper applications read by OCR, reviewed, entered.

Modules: :mod:`~civicflow.bus_pass.pipeline` (inbox → read → enter/review/quarantine),
:mod:`~civicflow.bus_pass.entries` (a reviewer's typing made into a clerk's value),
:mod:`~civicflow.bus_pass.review` (the review cards with handwriting crops),
:mod:`~civicflow.bus_pass.ledger` (受付簿 .xlsx and PDF).
"""
