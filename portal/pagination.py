"""Pagination of long lists: deep pages cost an index walk, not a join per skipped row."""

from django.core.paginator import Paginator


class DeferredJoinPaginator(Paginator):
    """Cuts the page on the primary keys alone, then fetches the page's rows by primary key.

    ``OFFSET n`` still walks n entries, but of the ordering index only (an index-only scan when
    the index covers the filter and the ordering), instead of joining and fetching n full rows
    that are thrown away. ``rows`` is the queryset that loads the page's rows (with its
    ``select_related``/``prefetch_related``); it is filtered by the page's ids and ordered like
    ``object_list``. The ids come from the scoped ``object_list``, so the tenant filter holds.

    Pass ``count`` when it is already known (e.g. a tab count) to save the COUNT query.
    """

    def __init__(self, object_list, per_page, *, rows=None, count=None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self._rows = rows if rows is not None else object_list
        if count is not None:
            self.count = count  # overrides the cached_property

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        ordering = self.object_list.query.order_by  # the lists always order explicitly
        ids = self.object_list.values("pk")[bottom:top]
        rows = self._rows.filter(pk__in=ids).order_by(*ordering)
        return self._get_page(rows, number, self)
