class Double:
    def process(self, item):
        return 2 * item
