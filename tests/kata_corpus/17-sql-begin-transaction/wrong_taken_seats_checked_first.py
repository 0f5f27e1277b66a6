"""Concert tickets: one Durable Object per concert (`env.CONCERTS.getByName(concert_id)`) keeps
the seat bookings in its SQLite database. `book(customer, seats)` books a list of seats for one
customer and records the sale: either every seat of the order is booked, or none is. A seat can
be booked only once.
"""

from workers import DurableObject

PRICE = 45  # per seat
SEATS = [f"{row}{n}" for row in "ABC" for n in range(1, 11)]


class Concert(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.sql = ctx.storage.sql
        self.sql.exec("""
            CREATE TABLE IF NOT EXISTS bookings (
                seat TEXT PRIMARY KEY,
                customer TEXT NOT NULL
            );
            CREATE TABLE IF NOT EXISTS sales (
                id INTEGER PRIMARY KEY,
                customer TEXT NOT NULL,
                seats INTEGER NOT NULL,
                total INTEGER NOT NULL
            )
        """)

    def book(self, customer, seats):
        """Book `seats` (a list like ["A1", "A2"]) for `customer`; returns the sale's total."""
        # BEGIN is refused, so make sure the order cannot fail halfway: check every seat first.
        marks = ", ".join("?" for _ in seats)
        taken = self.sql.exec(f"SELECT seat FROM bookings WHERE seat IN ({marks})", *seats).toArray()
        if taken:
            raise ValueError(f"seat {taken[0]['seat']} is taken")
        return self._book(customer, seats)

    def _book(self, customer, seats):
        if not seats:
            raise ValueError("an order needs at least one seat")
        for seat in seats:
            if seat not in SEATS:
                raise ValueError(f"there is no seat {seat!r}")
            self.sql.exec("INSERT INTO bookings (seat, customer) VALUES (?, ?)", seat, customer)
        total = PRICE * len(seats)
        self.sql.exec("INSERT INTO sales (customer, seats, total) VALUES (?, ?, ?)", customer, len(seats), total)
        return total

    def seating(self):
        """Who sits where: {seat: customer}."""
        return {row["seat"]: row["customer"] for row in self.sql.exec("SELECT seat, customer FROM bookings")}

    def sales(self):
        return [[row["customer"], row["seats"], row["total"]]
                for row in self.sql.exec("SELECT customer, seats, total FROM sales ORDER BY id")]
