"""Sets of linked groups, cut where one link alone joins two communities that each hold together without it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable
from typing import TypeVar

Group = TypeVar("Group", bound=Hashable)

MIN_CYCLE = 3
"""Groups a side must hold to hold a cycle of links, below which `linked_sets` never cuts it off."""


def linked_sets(links: Iterable[tuple[Group, Group]]) -> list[list[Group]]:
    """The sets of groups to merge: connected sets of linked groups, each cut at its lone bridges (`_cut`).

    Each set sorted, and the sets by their first group, so both engines name and list them alike.
    """
    neighbours: dict[Group, set[Group]] = defaultdict(set)
    for a, b in links:
        if a != b:
            neighbours[a].add(b)
            neighbours[b].add(a)
    seen: set[Group] = set()
    found: list[list[Group]] = []
    for start in neighbours:
        if start in seen:
            continue
        seen.add(start)
        component, frontier = [start], [start]
        while frontier:
            for other in neighbours[frontier.pop()]:
                if other not in seen:
                    seen.add(other)
                    component.append(other)
                    frontier.append(other)
        found.extend(sorted(part) for part in _cut(component, neighbours))
    return sorted(found)


def _cut(component: list[Group], neighbours: dict[Group, set[Group]]) -> list[list[Group]]:
    """`component` split wherever one link alone joins two sets that each hold together without it.

    Two communities that each link several messages of their own over and over, joined by one shared
    message, are two: fans re-sharing a band's announcements and a campaign that happened to post one
    of them. A side that is a chain or a star (each of its groups held by one link, as a campaign's
    texts hang on its picture) may be one campaign's sparse links and stays joined. The most even
    such link is cut first, then each side is cut again.
    """
    if len(component) < 2 * MIN_CYCLE:
        return [component]
    members = set(component)
    bridges = sorted(_bridges(component[0], neighbours, members),
                     key=lambda bridge: -min(bridge[2], len(component) - bridge[2]))
    for parent, child, below in bridges:
        if min(below, len(component) - below) < MIN_CYCLE:
            break  # the rest are less even still
        side, frontier = {child}, [child]
        while frontier:
            node = frontier.pop()
            for other in neighbours[node] & members:
                if other not in side and not (node == child and other == parent):
                    side.add(other)
                    frontier.append(other)
        rest = members - side
        if _holds_a_cycle(side, neighbours) and _holds_a_cycle(rest, neighbours):
            return (_cut([group for group in component if group in side], neighbours)
                    + _cut([group for group in component if group in rest], neighbours))
    return [component]


def _holds_a_cycle(groups: set[Group], neighbours: dict[Group, set[Group]]) -> bool:
    """Whether the links among connected `groups` are more than a tree's (some group is held by two)."""
    links = sum(len(neighbours[group] & groups) for group in groups) // 2
    return links >= len(groups)


def _bridges(root: Group, neighbours: dict[Group, set[Group]],
             members: set[Group]) -> Iterable[tuple[Group, Group, int]]:
    """Each link of `members` whose removal disconnects them, as (parent, child, groups on the child's side),
    by an iterative depth-first search that keeps each group's discovery order and lowest reachable order."""
    order: dict[Group, int] = {root: 0}
    low: dict[Group, int] = {root: 0}
    size: dict[Group, int] = {root: 1}
    stack: list[tuple[Group, Group | None, list[Group]]] = [(root, None, sorted(neighbours[root] & members))]
    while stack:
        node, parent, pending = stack[-1]
        if pending:
            other = pending.pop()
            if other == parent:
                continue
            if other in order:
                low[node] = min(low[node], order[other])
            else:
                order[other] = low[other] = len(order)
                size[other] = 1
                stack.append((other, node, sorted(neighbours[other] & members)))
            continue
        stack.pop()
        if parent is not None:
            low[parent] = min(low[parent], low[node])
            size[parent] += size[node]
            if low[node] > order[parent]:
                yield parent, node, size[node]
