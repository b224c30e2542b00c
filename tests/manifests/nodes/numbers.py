"""Node code for `python_typed.json` and `python_error.json`."""


class Offset:
    """Adds `by` to each number; counts what it saw, emitted when the stream ends."""

    def __init__(self, by):
        self.by = by
        self.seen = 0

    def process(self, item):
        self.seen += 1
        return item + self.by

    def finish(self):
        yield -self.seen
        self.seen = 0


def check(item):
    if item == 3:
        raise ValueError(f"bad item {item}")
    return item
