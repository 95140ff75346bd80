"""Importar planilha: schedules from a CSV or XLSX file (issue 13 item 3).

- ``reading``: bytes -> a table of raw rows (encoding, separator, XLSX cells, limits).
- ``rows``: one raw row -> validated values or per-field errors in Portuguese.
- ``services``: the whole file -> a preview (errors, duplicates, existing customers), and the
  valid rows -> customers and schedules in one transaction.
"""
