"""CNAB files (FEBRABAN CNAB 240 and the banks' CNAB 400): pure code, no database.

``parse_file(data) -> ParsedFile`` reads a retorno or a remessa of any FEBRABAN CNAB 240
cobrança file (Santander's shifted fields included) and the CNAB 400 files of Banco do Brasil
(CBR643), Itaú, Bradesco and Santander; anything it cannot read raises ``CnabError`` with one
line of plain Portuguese. See docs in reading.py (hygiene), cnab240.py, cnab400.py and codes.py
(occurrence and reason tables, with their sources).
"""

from billing.cnab.reading import parse_file
from billing.cnab.records import PAYMENT_KINDS, BankEvent, CnabError, Kind, ParsedFile, Reason

__all__ = ["PAYMENT_KINDS", "BankEvent", "CnabError", "Kind", "ParsedFile", "Reason", "parse_file"]
