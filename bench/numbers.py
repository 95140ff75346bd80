#!/usr/bin/env python
"""Benchmark and cross-check of boleto numbering (billing.boleto_codes). Run by hand, not a test.

    .venv/bin/python bench/numbers.py                  # timings + 20,000 random cross-checks
    .venv/bin/python bench/numbers.py --checks 100000 --seed 7
    .venv/bin/python bench/numbers.py --no-timing      # cross-check only

1. Timing: µs per `boleto_numbers` call for one account of each bank (BB with a 7-digit
   convênio), best of --repeat rounds of --number calls (best, not mean: the machine may be busy),
   for nosso número 1 and for a long one, next to the generic path (`reference_boleto_numbers`).
   The budget is 8 µs per call.
2. Cross-check: --checks random boletos (random account of a random bank and layout, nosso
   número, due date in 2025–2049, amount from R$ 0,00 to R$ 99.999.999,99 written in several
   Decimal forms), each compared with the generic path and decoded back by `parse()` (due date
   and amount). Exits 1 on the first mismatch, printing it.
"""

from __future__ import annotations

import os
import sys

# This file is named numbers.py and Python puts its folder first on sys.path, where it would
# shadow the standard library's `numbers` (imported by `decimal`): take the folder off.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

import argparse  # noqa: E402
import random  # noqa: E402
import timeit  # noqa: E402
from datetime import date, timedelta  # noqa: E402
from decimal import Decimal  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.test")

import django  # noqa: E402

django.setup()

from bench._common import machine_info  # noqa: E402
from billing.boleto_codes import bank_account, boleto_numbers, reference_boleto_numbers  # noqa: E402
from billing.febraban import parse  # noqa: E402

BUDGET_US = 8.0

TIMED = {
    "001 Banco do Brasil": {"bank_code": "001", "agreement": "1234567", "wallet": "17"},
    "033 Santander": {"bank_code": "033", "agreement": "1234567", "wallet": "101"},
    "237 Bradesco": {"bank_code": "237", "agency": "1234", "account": "0012345", "wallet": "09"},
    "341 Itaú": {
        "bank_code": "341",
        "agency": "0057",
        "account": "12345",
        "account_digit": "7",
        "wallet": "109",
    },
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checks", type=int, default=20_000, help="random cross-checks")
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--number", type=int, default=20_000, help="calls per timing round")
    parser.add_argument("--repeat", type=int, default=5, help="timing rounds (best is kept)")
    parser.add_argument("--no-timing", action="store_true")
    return parser.parse_args()


def _per_call_us(fn, number: int, repeat: int) -> float:
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e6


def timing(number: int, repeat: int) -> bool:
    due, amount = date(2026, 12, 10), Decimal("199.90")
    print(f"µs per call, best of {repeat} × {number:,} (budget {BUDGET_US:g} µs)")
    header = f"{'bank':<20} {'NN 1':>8} {'NN long':>8} {'generic':>8} {'speed-up':>9}"
    print(header)
    print("-" * len(header))
    ok = True
    for label, beneficiary in TIMED.items():
        bank, account = bank_account(beneficiary)
        long_nn = bank.nosso_numero_max(account) // 3
        row = []
        for nn in (1, long_nn):
            row.append(
                _per_call_us(
                    lambda nn=nn, b=beneficiary: boleto_numbers(
                        beneficiary=b, nosso_numero=nn, due_date=due, amount=amount
                    ),
                    number,
                    repeat,
                )
            )
        generic = _per_call_us(
            lambda b=beneficiary: reference_boleto_numbers(
                beneficiary=b, nosso_numero=1, due_date=due, amount=amount
            ),
            max(1, number // 10),
            repeat,
        )
        ok = ok and max(row) <= BUDGET_US
        print(f"{label:<20} {row[0]:8.2f} {row[1]:8.2f} {generic:8.2f} {generic / row[0]:8.1f}×")
    print()
    return ok


def _digits(rng: random.Random, size: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(size))


def random_beneficiary(rng: random.Random) -> dict:
    """A valid account of a random bank and layout; sizes vary where the bank pads."""
    code = rng.choice(["001", "033", "237", "341"])
    if code == "001":
        size = rng.choice([4, 6, 7, 8])
        return {
            "bank_code": code,
            "agreement": _digits(rng, size),
            "wallet": _digits(rng, rng.choice([1, 2])),
            # used by the 4- and 6-digit convênio layouts only
            "agency": _digits(rng, rng.randint(1, 4)),
            "account": _digits(rng, rng.randint(1, 8)),
        }
    if code == "033":
        return {
            "bank_code": code,
            "agreement": _digits(rng, rng.randint(1, 7)),
            "wallet": rng.choice(["101", "102", "201", _digits(rng, 3)]),
        }
    if code == "237":
        return {
            "bank_code": code,
            "agency": _digits(rng, 4),
            "account": _digits(rng, rng.randint(1, 7)),
            "wallet": rng.choice(["09", "06", "9", _digits(rng, 2)]),
            "account_digit": rng.choice(["", "P", _digits(rng, 1)]),
        }
    wallet = rng.choice(["109", "112", "126", "131", "146", "150", "168", "175", "157"])
    return {
        "bank_code": code,
        "agency": _digits(rng, 4),
        "account": _digits(rng, 5),
        "wallet": wallet,
        "account_digit": rng.choice(["", _digits(rng, 1)]),
    }


def random_amount(rng: random.Random) -> Decimal:
    cents = rng.choice(
        [0, 1, rng.randint(1, 99_999), rng.randint(1, 9_999_999), rng.randint(0, 9_999_999_999)]
    )
    form = rng.randrange(3)
    if form == 0:
        return Decimal(cents).scaleb(-2)  # 199.90
    if form == 1:
        return Decimal(cents).scaleb(-2).normalize()  # 199.9, 2E+2
    return Decimal(f"{cents // 100}.{cents % 100:02d}00")  # 199.9000


def cross_check(checks: int, seed: int) -> bool:
    rng = random.Random(seed)
    accounts = [random_beneficiary(rng) for _ in range(300)]
    first, last = date(2025, 1, 1), date(2049, 12, 31)
    span = (last - first).days
    banks: dict[str, int] = {}
    encoders: dict = {}
    for i in range(checks):
        beneficiary = rng.choice(accounts)
        bank, account = bank_account(beneficiary)
        maximum = bank.nosso_numero_max(account)
        nn = rng.choice(
            [1, maximum, rng.randint(1, min(maximum, 999_999)), rng.randint(1, maximum)]
        )
        due = first + timedelta(days=rng.randint(0, span))
        amount = random_amount(rng)
        kwargs = {"beneficiary": beneficiary, "nosso_numero": nn, "due_date": due, "amount": amount}
        fast = boleto_numbers(**kwargs)
        # and it was the compiled encoder that answered, not the generic fallback
        encode = encoders.get(id(beneficiary)) or encoders.setdefault(
            id(beneficiary), bank.encoder(account)
        )
        if encode(nn, due, amount) != (fast.barcode, fast.linha_digitavel):
            print(f"FALLBACK at check {i}: the encoder did not take {kwargs}")
            return False
        reference = reference_boleto_numbers(**kwargs)
        parsed = parse(fast.linha_digitavel, reference_date=due)
        if (
            fast != reference
            or parsed.barcode != fast.barcode
            or parsed.due_date != due
            or parsed.amount != amount
        ):
            print(f"MISMATCH at check {i}: {kwargs}\n  fast      {fast}\n  reference {reference}")
            print(f"  parsed due {parsed.due_date} amount {parsed.amount}")
            return False
        banks[account.bank_code] = banks.get(account.bank_code, 0) + 1
    per_bank = ", ".join(f"{code}: {n:,}" for code, n in sorted(banks.items()))
    print(
        f"cross-check: {checks:,} random boletos identical to the generic path and parse() "
        f"round-trips ({per_bank}; seed {seed})"
    )
    return True


def main() -> int:
    args = parse_args()
    for key, value in machine_info(packages=()):
        print(f"- {key}: {value}")
    print()
    within_budget = True
    if not args.no_timing:
        within_budget = timing(args.number, args.repeat)
    identical = cross_check(args.checks, args.seed)
    if not within_budget:
        print(f"over budget: some bank takes more than {BUDGET_US:g} µs per call")
    return 0 if identical and within_budget else 1


if __name__ == "__main__":
    sys.exit(main())
