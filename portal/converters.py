class IdConverter:
    """A positive database id that fits a bigint: longer digit strings are 404, never a 500."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(int(value))
