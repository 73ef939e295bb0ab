"""``field__any_of=ids``: the ORM lookup for long id lists (registered on import).

Defined here, below every app, so that any selector may use it without importing the job
engine; ``allocations.together`` (its first user) imports it from here."""

from __future__ import annotations

from django.core.exceptions import EmptyResultSet
from django.db.models import Field, ForeignObject, Lookup


class AnyOf(Lookup):
    """``field__any_of=ids``: ``field IN (ids)``, written on PostgreSQL as ``field = ANY(%s)``
    with the ids as one array parameter.

    A 5,000-agent move is 50 batches of 100 agents, and each batch's statements named its
    agents as 100 parameters each: the ORM prepared them one by one and psycopg re-parsed every
    such query (too long for its statement cache) to bind them, about 40% of a batch's worker
    CPU. As one array the query text is the same for any number of agents. The ids are used
    as given (strings for string keys, ints for integer keys): no per-value preparation."""

    lookup_name = "any_of"
    prepare_rhs = False

    def get_prep_lookup(self):
        return list(self.rhs)

    def as_sql(self, compiler, connection):
        values = [v for v in self.rhs if v is not None]
        if not values:  # as ``__in=[]``: answered without asking
            raise EmptyResultSet
        lhs, lhs_params = self.process_lhs(compiler, connection)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", (*lhs_params, values)
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", (*lhs_params, *values)


Field.register_lookup(AnyOf)
ForeignObject.register_lookup(AnyOf)  # relations look up only their own class's lookups
