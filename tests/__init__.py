from pathlib import Path

# The test vectors live in the repository (tests/data/PROVENANCE.md names their sources), so a
# fresh clone runs its tests with nothing beside it.
DATA = Path(__file__).resolve().parent / "data"
WEBHOOKS = DATA / "webhooks"
BOLETO_VECTORS = DATA / "boleto_vectors.json"
