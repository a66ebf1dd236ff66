"""Who should tell whom: the integration paths of the stack, per event kind."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from audit.model import Case, EventKind, Handoff, Role, ThreetruthError

# The kinds a topology can route. Other event kinds are recorded but not audited
# as handoffs.
ROUTED_KINDS = (EventKind.CREATED, EventKind.SHIPPED, EventKind.CANCELLED)


@dataclass(frozen=True, slots=True)
class Route:
    """One declared path: ``source -> target`` for an event kind; ends are roles or system names."""

    kind: EventKind
    source: str
    target: str

    @classmethod
    def parse(cls, kind: str, text: str) -> Route:
        source, arrow, target = text.partition("->")
        if not arrow or not source.strip() or not target.strip():
            raise ThreetruthError(f"topology: {kind} path {text!r} is not of the form 'from -> to'")
        try:
            event_kind = EventKind(kind)
        except ValueError:
            raise ThreetruthError(
                f"topology: unknown event kind {kind!r}; use one of {', '.join(k.value for k in ROUTED_KINDS)}"
            ) from None
        if event_kind not in ROUTED_KINDS:
            raise ThreetruthError(
                f"topology: {kind!r} is not routed; use one of {', '.join(k.value for k in ROUTED_KINDS)}"
            )
        return cls(event_kind, source.strip(), target.strip())


@dataclass(frozen=True, slots=True)
class Topology:
    """The declared routes, keyed by the role of the system where an order is born."""

    by_origin_role: Mapping[Role, tuple[Route, ...]]

    @classmethod
    def from_mapping(cls, data: Mapping[str, Mapping[str, Iterable[str]]]) -> Topology:
        """Build from config: ``{"marketplace": {"shipped": ["erp -> marketplace"]}}``.

        Origin roles the mapping leaves out keep their defaults.
        """
        routes = dict(DEFAULT_TOPOLOGY.by_origin_role)
        for role_name, kinds in data.items():
            try:
                role = Role(role_name)
            except ValueError:
                raise ThreetruthError(
                    f"topology: unknown origin role {role_name!r}; use one of {', '.join(r.value for r in Role)}"
                ) from None
            routes[role] = tuple(Route.parse(kind, text) for kind, paths in kinds.items() for text in paths)
        return cls(routes)

    def handoffs(self, case: Case, kind: EventKind | None = None) -> list[tuple[EventKind, Handoff]]:
        """The routes that apply to this case, resolved to system names, in a stable order."""
        origin = case.holding(case.origin)
        if origin is None:
            return []
        holders = tuple(sorted((h.system.name, h.system.role) for h in case.holdings if h.system.role is not Role.MIDDLEWARE))
        resolved = _resolve(self.by_origin_role.get(origin.system.role, ()), holders)
        return [edge for edge in resolved if kind is None or edge[0] is kind]


@lru_cache(maxsize=256)
def _resolve(routes: tuple[Route, ...], holders: tuple[tuple[str, Role], ...]) -> tuple[tuple[EventKind, Handoff], ...]:
    """Routes resolved to system names; memoised, since every case of a stack resolves the same way."""

    def resolve(end: str) -> list[str]:
        named = [name for name, _role in holders if name == end]
        return named or [name for name, role in holders if role.value == end]

    found: list[tuple[EventKind, Handoff]] = []
    for route in routes:
        for source in resolve(route.source):
            for target in resolve(route.target):
                edge = (route.kind, Handoff(source, target))
                if source != target and edge not in found:
                    found.append(edge)
    return tuple(found)


def _routes(kind: EventKind, *paths: str) -> tuple[Route, ...]:
    return tuple(Route.parse(kind.value, path) for path in paths)


# Defaults from the audit model: the ERP is the source of fulfillment truth.
DEFAULT_TOPOLOGY = Topology(
    {
        Role.MARKETPLACE: (
            *_routes(EventKind.CREATED, "marketplace -> erp", "marketplace -> storefront"),
            *_routes(EventKind.SHIPPED, "erp -> marketplace", "erp -> storefront"),
            *_routes(EventKind.CANCELLED, "marketplace -> erp", "erp -> storefront"),
        ),
        Role.STOREFRONT: (
            *_routes(EventKind.CREATED, "storefront -> erp"),
            *_routes(EventKind.SHIPPED, "erp -> storefront"),
        ),
    }
)
