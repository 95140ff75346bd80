"""Per-bank campo livre (barcode positions 20–44) and nosso número layouts (docs §4).

One small interface, `Bank`, with one subclass per bank, and a registry (`get_bank`). Each bank
receives the beneficiário's `BankAccount` and the boleto's nosso número (an int, the sequential
part without DV) and returns the 25-digit campo livre or the nosso número as printed.

Each bank declares its rules once, as `layout.Layout` data (fields, widths, check digits); the
readable path (`campo_livre`, `barcode`) and the fast one (`encoder`) both derive from it.

Implemented: Banco do Brasil (001), Santander (033), Bradesco (237), Itaú (341). Other codes only
have a display name (`bank_name`).

Always confirm the layout in the bank's current manual for the beneficiário's convênio/carteira.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import ClassVar

from .barcode import barcode_to_linha, build_barcode
from .checkdigits import BoletoError, is_digits, mod11
from .encoder import Encoder, compile_encoder
from .layout import CheckDigit, Field, Layout, Literal, NossoNumero, Part, fit

__all__ = [
    "BANK_NAMES",
    "BancoDoBrasil",
    "Bank",
    "BankAccount",
    "Bradesco",
    "Itau",
    "Santander",
    "bank_name",
    "get_bank",
    "supported_banks",
]

#: Display names of common COMPE codes (campo livre support: see `get_bank`).
BANK_NAMES: dict[str, str] = {
    "001": "Banco do Brasil",
    "004": "Banco do Nordeste",
    "021": "Banestes",
    "033": "Santander",
    "041": "Banrisul",
    "070": "BRB - Banco de Brasília",
    "077": "Banco Inter",
    "085": "Ailos",
    "104": "Caixa Econômica Federal",
    "136": "Unicred",
    "208": "BTG Pactual",
    "237": "Bradesco",
    "260": "Nubank",
    "336": "C6 Bank",
    "341": "Itaú Unibanco",
    "422": "Banco Safra",
    "707": "Banco Daycoval",
    "748": "Sicredi",
    "756": "Sicoob",
}


def bank_name(code: str) -> str | None:
    """Display name of a bank code, or None when unknown."""
    return BANK_NAMES.get(code)


@dataclass(frozen=True)
class BankAccount:
    """The beneficiário's collection account at one bank, as the bank gave it.

    Numeric fields are strings of digits (leading zeros matter); each bank pads them to its size.
    Which fields a bank needs:

    * 001 Banco do Brasil: agreement (convênio, 4/6/7/8 digits) and wallet (carteira, 2 digits);
      agency and account too for convênios of 4 digits and of 6 digits with a 5-digit nosso
      número. ``long_nosso_numero=True`` selects, for a 6-digit convênio, the 17-digit free nosso
      número (carteiras 16/18, service code 21).
    * 033 Santander: agreement (código do beneficiário, up to 7 digits) and wallet (3 digits,
      e.g. 101, 102).
    * 237 Bradesco: agency (4), account (up to 7, without DV) and wallet (2 digits, e.g. 09).
    * 341 Itaú: agency (4), account (5, without DAC), account_digit (the agência/conta DAC as the
      bank prints it; computed by mod 10 when left empty) and wallet (3 digits, e.g. 109).
    """

    bank_code: str
    agency: str = ""
    agency_digit: str = ""
    account: str = ""
    account_digit: str = ""
    wallet: str = ""
    agreement: str = ""
    long_nosso_numero: bool = False

    def __post_init__(self) -> None:
        for label, value in (
            ("Código do banco", self.bank_code),
            ("Agência", self.agency),
            ("Conta", self.account),
            ("Carteira", self.wallet),
            ("Convênio", self.agreement),
        ):
            if not isinstance(value, str) or (value and not is_digits(value)):
                raise BoletoError(f"{label} inválido: {value!r} (apenas dígitos)")
        for label, value in (
            ("Dígito da agência", self.agency_digit),
            ("Dígito da conta", self.account_digit),
        ):
            if (
                not isinstance(value, str)
                or len(value) > 1
                or (value and not (value.isascii() and value.isalnum()))
            ):
                raise BoletoError(f"{label} inválido: {value!r} (um dígito ou letra)")
        if len(self.bank_code) != 3:
            raise BoletoError(f"Código do banco inválido: {self.bank_code!r} (esperados 3 dígitos)")


class Bank(ABC):
    """A bank's campo livre and nosso número rules, declared once as `Layout`\\ s (see `layout`):
    a subclass only says which layout serves an account (`layout`)."""

    code: ClassVar[str]
    name: ClassVar[str]

    @abstractmethod
    def layout(self, account: BankAccount) -> Layout:
        """The layout that serves `account`; `BoletoError` when none does (the account's fields
        themselves are checked when the layout reads them)."""

    # -- derived from the layout ----------------------------------------------------------------
    @property
    def code_with_dv(self) -> str:
        """Bank code and its mod-11 DV, as printed at the top of the ficha: ``"001-9"``."""
        return f"{self.code}-{mod11(self.code)}"

    def _check_bank(self, account: BankAccount) -> None:
        if account.bank_code != self.code:
            raise BoletoError(
                f"Conta do banco {account.bank_code} usada com o banco {self.code} ({self.name})"
            )

    def _checked_layout(self, account: BankAccount, nosso_numero: int) -> Layout:
        self._check_bank(account)
        if isinstance(nosso_numero, bool) or not isinstance(nosso_numero, int):
            raise TypeError("nosso_numero must be an int")
        layout = self.layout(account)
        maximum = layout.nosso_numero_max
        if not 1 <= nosso_numero <= maximum:
            raise BoletoError(
                f"Nosso número fora do intervalo: {nosso_numero} (esperado de 1 a {maximum})"
            )
        return layout

    def nosso_numero_max(self, account: BankAccount) -> int:
        """Largest sequential nosso número (without DV) this account can use."""
        return self.layout(account).nosso_numero_max

    def campo_livre(self, account: BankAccount, nosso_numero: int) -> str:
        """The 25-digit campo livre of this boleto."""
        result = self._checked_layout(account, nosso_numero).campo_livre(account, nosso_numero)
        assert len(result) == 25 and is_digits(result), result
        return result

    def format_nosso_numero(self, account: BankAccount, nosso_numero: int) -> str:
        """Nosso número as printed on the boleto, with its DV where the bank has one."""
        return self._checked_layout(account, nosso_numero).printed(account, nosso_numero)

    def barcode(
        self,
        account: BankAccount,
        nosso_numero: int,
        due_date: date | None,
        amount: Decimal | int | str,
    ) -> str:
        """Full 44-digit barcode of a boleto of this bank."""
        return build_barcode(self.code, due_date, amount, self.campo_livre(account, nosso_numero))

    def encoder(self, account: BankAccount) -> Encoder:
        """A precompiled ``encode(nosso_numero, due_date, amount) -> (barcode, linha) | None`` for
        `account`: the same numbers as `barcode` + `barcode_to_linha`, ~10× faster, for the
        issuing of boletos in bulk. It returns None for any input it does not take as is (out of
        range, wrong type, a datetime, more than 2 decimal places, …): call `barcode` then, which
        raises the error. Raises `BoletoError` when `account` cannot issue boletos at all.

        Compiled from the same `Layout` as `campo_livre` (`Layout.compiled`), and checked against
        `barcode` on a few numbers before it is returned.
        """
        self._check_bank(account)
        layout = self.layout(account)
        maximum = layout.nosso_numero_max
        encode = compile_encoder(self.code, layout.compiled(account), maximum)
        due, amount = date(2031, 5, 17), Decimal("98765.43")
        for nosso_numero in {1, maximum // 7 + 1, maximum}:
            barcode = self.barcode(account, nosso_numero, due, amount)
            if encode(nosso_numero, due, amount) != (barcode, barcode_to_linha(barcode)):
                raise AssertionError(f"{self!r}: compiled layout differs from barcode()")
        return encode

    def nosso_numero_from_campo_livre(self, account: BankAccount, campo_livre: str) -> int:
        """The nosso número inside `campo_livre`, when it belongs to `account`.

        Rebuilds the campo livre from the extracted number, so any other difference (convênio,
        carteira, agency, DV…) raises `BoletoError`. Useful to match a paid barcode back to its
        boleto.
        """
        if not (isinstance(campo_livre, str) and len(campo_livre) == 25 and is_digits(campo_livre)):
            raise BoletoError(f"Campo livre inválido: {campo_livre!r} (esperados 25 dígitos)")
        nosso_numero = int(campo_livre[slice(*self.layout(account).nosso_numero_slice)])
        if nosso_numero < 1 or self.campo_livre(account, nosso_numero) != campo_livre:
            raise BoletoError(
                f"Campo livre {campo_livre} não pertence a esta conta do banco {self.code}"
            )
        return nosso_numero

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.code}>"


# -- the layouts ----------------------------------------------------------------------------------

_BB_DV = {
    "method": "mod11_remainder",
    "weights": (9, 8, 7, 6, 5, 4, 3, 2),
    "replacements": ((10, "X"),),
}


def _bb_layout(convenio: int, sequential: int, *, long_nosso_numero: bool = False) -> Layout:
    agreement = Field("agreement", convenio, "Convênio")
    nn = NossoNumero(sequential)
    wallet = Field("wallet", 2, "Carteira")
    if convenio in (7, 8):
        return Layout(
            (Literal("000000"), agreement, nn, wallet), (agreement, nn), checked=(wallet,)
        )
    if long_nosso_numero:
        wallet = Field(
            "wallet",
            2,
            "Carteira",
            allowed=frozenset({"16", "18"}),
            refusal="Nosso número de 17 dígitos do Banco do Brasil só é permitido nas carteiras "
            "16 e 18 (carteira informada: {value})",
        )
        return Layout((agreement, nn, Literal("21")), (nn,), checked=(wallet,))
    return Layout(
        (agreement, nn, Field("agency", 4, "Agência"), Field("account", 8, "Conta"), wallet),
        (agreement, nn, Literal("-"), CheckDigit(over=(agreement, nn), **_BB_DV)),
        checked=(wallet,),
    )


class BancoDoBrasil(Bank):
    """Banco do Brasil (001). Layout chosen by the size of the convênio:

    * 7 digits: ``000000`` + convênio (7) + sequential (10) + carteira (2); the nosso número is
      convênio + sequential (17 digits), printed without DV.
    * 8 digits: ``000000`` + convênio (8) + sequential (9) + carteira (2); printed without DV.
    * 6 digits: convênio (6) + NN (5) + agência (4) + conta (8) + carteira (2); printed as
      convênio + NN + ``-`` + DV.
    * 6 digits with ``long_nosso_numero``: convênio (6) + NN (17) + ``21``; only carteiras 16/18;
      the 17-digit NN is printed without DV.
    * 4 digits: convênio (4) + NN (7) + agência (4) + conta (8) + carteira (2); printed as
      convênio + NN + ``-`` + DV.

    The NN DV is modulo 11 with weights 9..2 from the right, DV = remainder, 10 → ``X``.
    """

    code = "001"
    name = "Banco do Brasil"

    #: (convênio size, long nosso número) → layout.
    LAYOUTS: ClassVar[dict[tuple[int, bool], Layout]] = {
        (7, False): _bb_layout(7, 10),
        (8, False): _bb_layout(8, 9),
        (6, False): _bb_layout(6, 5),
        (6, True): _bb_layout(6, 17, long_nosso_numero=True),
        (4, False): _bb_layout(4, 7),
    }

    @staticmethod
    def dv(digits: str) -> str:
        """BB modulo-11 DV (nosso número, agência, conta): weights 9..2, remainder, 10 → X."""
        return CheckDigit(over=(), **_BB_DV).of(digits)

    def layout(self, account: BankAccount) -> Layout:
        key = (len(account.agreement), account.long_nosso_numero)
        if key not in self.LAYOUTS:
            if account.long_nosso_numero:
                raise BoletoError(
                    "Nosso número de 17 dígitos do Banco do Brasil exige convênio de 6 dígitos"
                )
            raise BoletoError(
                f"Convênio do Banco do Brasil inválido: {account.agreement!r} "
                "(esperados 4, 6, 7 ou 8 dígitos)"
            )
        return self.LAYOUTS[key]


_SANTANDER_NN = NossoNumero(12)
#: NN DV: modulo 11, weights 2..9, 10 and 11 → 0.
_SANTANDER_DV = CheckDigit("mod11", over=(_SANTANDER_NN,), replacements=((10, "0"), (11, "0")))


class Santander(Bank):
    """Santander (033): ``9`` + código do beneficiário (7) + NN (12) + NN DV + IOF (``0``) +
    carteira (3). NN DV: modulo 11, weights 2..9, 10 and 11 → 0. Printed ``000000000456-1``."""

    code = "033"
    name = "Santander"

    #: IOF flag: only insurers (seguradoras) use another value.
    IOF = "0"

    LAYOUT: ClassVar[Layout] = Layout(
        (
            Literal("9"),
            Field("agreement", 7, "Código do beneficiário"),
            _SANTANDER_NN,
            _SANTANDER_DV,
            Literal(IOF),
            Field("wallet", 3, "Carteira"),
        ),
        (_SANTANDER_NN, Literal("-"), _SANTANDER_DV),
    )

    @staticmethod
    def dv(nosso_numero12: str) -> str:
        return _SANTANDER_DV.of(nosso_numero12)

    def layout(self, account: BankAccount) -> Layout:
        return self.LAYOUT


_BRADESCO_WALLET = Field("wallet", 2, "Carteira")
_BRADESCO_NN = NossoNumero(11)
#: NN DV (printed only): modulo 11, weights 2..7, over carteira + NN; 10 → P, 11 → 0.
_BRADESCO_DV = CheckDigit(
    "mod11",
    over=(_BRADESCO_WALLET, _BRADESCO_NN),
    weights=(2, 3, 4, 5, 6, 7),
    replacements=((10, "P"), (11, "0")),
)


class Bradesco(Bank):
    """Bradesco (237): agência (4) + carteira (2) + NN (11) + conta (7) + ``0``.
    NN DV: modulo 11, weights 2..7, over carteira + NN; 10 → ``P``, 11 → ``0``.
    Printed ``09/00000000453-P``."""

    code = "237"
    name = "Bradesco"

    LAYOUT: ClassVar[Layout] = Layout(
        (
            Field("agency", 4, "Agência"),
            _BRADESCO_WALLET,
            _BRADESCO_NN,
            Field("account", 7, "Conta"),
            Literal("0"),
        ),
        (_BRADESCO_WALLET, Literal("/"), _BRADESCO_NN, Literal("-"), _BRADESCO_DV),
    )

    @staticmethod
    def dv(wallet2: str, nosso_numero11: str) -> str:
        return _BRADESCO_DV.of(wallet2 + nosso_numero11)

    def layout(self, account: BankAccount) -> Layout:
        return self.LAYOUT


_ITAU_SPECIAL_WALLETS = frozenset({"106", "107", "122", "142", "143", "195", "196", "198"})
_ITAU_WALLET = Field(
    "wallet",
    3,
    "Carteira",
    refused=_ITAU_SPECIAL_WALLETS,
    refusal="Carteira Itaú {value} usa o layout especial (seu número e código do cliente), "
    "que não é suportado",
)
_ITAU_AGENCY = Field("agency", 4, "Agência")
_ITAU_ACCOUNT = Field("account", 5, "Conta")
#: DAC of agência + conta, modulo 10: printed by the bank; computed when the account leaves it out.
_ITAU_ACCOUNT_DAC = CheckDigit("mod10", over=(_ITAU_AGENCY, _ITAU_ACCOUNT))
_ITAU_NN = NossoNumero(8)


def _itau_layout(nn_dac_over: tuple[Part, ...]) -> Layout:
    dac = CheckDigit("mod10", over=(*nn_dac_over, _ITAU_NN))
    return Layout(
        (
            _ITAU_WALLET,
            _ITAU_NN,
            dac,
            _ITAU_AGENCY,
            _ITAU_ACCOUNT,
            Field(
                "account_digit",
                1,
                "Dígito da conta Itaú",
                default=_ITAU_ACCOUNT_DAC,
                invalid="Dígito da conta Itaú inválido: {value!r} (um dígito)",
            ),
            Literal("000"),
        ),
        (_ITAU_WALLET, Literal("/"), _ITAU_NN, Literal("-"), dac),
    )


class Itau(Bank):
    """Itaú (341), common carteiras (109, 112, 175, …): carteira (3) + NN (8) + DAC (1) +
    agência (4) + conta (5) + DAC agência/conta (1) + ``000``.

    NN DAC: modulo 10 over agência + conta + carteira + NN; for carteiras 112, 126, 131, 146, 150
    and 168 over carteira + NN only. Printed ``109/00223350-2``.

    The special carteiras (106, 107, 122, 142, 143, 195, 196, 198) carry seu número and código do
    cliente instead; they are not supported here.
    """

    code = "341"
    name = "Itaú Unibanco"

    DAC_OVER_WALLET_AND_NN: ClassVar[frozenset[str]] = frozenset(
        {"112", "126", "131", "146", "150", "168"}
    )
    SPECIAL_WALLETS: ClassVar[frozenset[str]] = _ITAU_SPECIAL_WALLETS

    LAYOUT: ClassVar[Layout] = _itau_layout((_ITAU_AGENCY, _ITAU_ACCOUNT, _ITAU_WALLET))
    LAYOUT_DAC_OVER_WALLET_AND_NN: ClassVar[Layout] = _itau_layout((_ITAU_WALLET,))

    @staticmethod
    def account_dac(agency: str, account: str) -> str:
        """DAC of agência (4) + conta (5), modulo 10."""
        return _ITAU_ACCOUNT_DAC.of(fit(agency, 4, "Agência") + fit(account, 5, "Conta"))

    def layout(self, account: BankAccount) -> Layout:
        if account.wallet.zfill(3) in self.DAC_OVER_WALLET_AND_NN:
            return self.LAYOUT_DAC_OVER_WALLET_AND_NN
        return self.LAYOUT

    def nosso_numero_dac(self, account: BankAccount, nosso_numero: int) -> str:
        """The nosso número's DAC (the digit after it in the campo livre and when printed)."""
        return self.layout(account).printed(account, nosso_numero)[-1]


_REGISTRY: dict[str, Bank] = {
    bank.code: bank for bank in (BancoDoBrasil(), Santander(), Bradesco(), Itau())
}


def get_bank(code: str) -> Bank:
    """The `Bank` for a 3-digit code; `BoletoError` when its layout is not implemented."""
    try:
        return _REGISTRY[code]
    except KeyError:
        known = bank_name(code)
        label = f"{code} ({known})" if known else str(code)
        supported = ", ".join(sorted(_REGISTRY))
        raise BoletoError(
            f"Banco {label} não suportado para emissão de boletos (suportados: {supported})"
        ) from None


def supported_banks() -> list[Bank]:
    """Banks whose campo livre is implemented, by code."""
    return [_REGISTRY[code] for code in sorted(_REGISTRY)]
