from workers import DurableObject


class Counter(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.count = 0

    async def increment(self):
        # TODO: this count is lost when the object is evicted
        self.count += 1
        return self.count
