"""Text cells that a spreadsheet must not run: our CSV files (the exports, the import's template)
write them, and the unit import reads them back."""

# A spreadsheet runs a cell that starts with one of these as a formula (=HYPERLINK(...) can send
# the sheet's contents elsewhere); unit and sector names are typed by people.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def text_cell(value: str) -> str:
    """``value`` as a cell shown as text: a leading apostrophe, as Excel itself marks it."""
    return "'" + value if value.startswith(FORMULA_START) else value


def from_text_cell(value: str) -> str:
    """What text_cell wrote, as it was typed: a file exported or downloaded from us and filled
    in may come back with the apostrophe in front."""
    if value.startswith("'") and value[1:].startswith(FORMULA_START):
        return value[1:]
    return value
