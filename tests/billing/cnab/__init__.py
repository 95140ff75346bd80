from tests import DATA

CNAB = DATA / "cnab"
RETORNO = CNAB / "retorno"
REMESSA = CNAB / "remessa"


def read(name: str) -> bytes:
    folder = RETORNO if name.endswith(".ret") else REMESSA
    return (folder / name).read_bytes()
