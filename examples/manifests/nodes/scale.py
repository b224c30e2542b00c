"""Node classes for `python_node.json`; the manifest names the class and its arguments."""


class Scale:
    """Multiplies each number by `factor`."""

    def __init__(self, factor=1):
        self.factor = factor

    def process(self, item):
        return item * self.factor


class RunningTotal:
    """Stateful: emits nothing per item, then the total and the count when the stream ends."""

    def initialize(self):
        self.total = 0
        self.count = 0

    def process(self, item):
        self.total += item
        self.count += 1

    def finish(self):
        yield {"total": self.total, "count": self.count}
        self.total = 0
        self.count = 0
