from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=2&page_size=500`. A page is at most 1000 rows: the API answers each request from memory, so whole
    datasets are the streaming exports' job (/exports/<dataset>.csv)."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        # A CSV page has no room for the count and the links: headers carry them, for JSON too.
        response["X-Total-Count"] = str(self.page.paginator.count)
        links = [(self.get_next_link(), "next"), (self.get_previous_link(), "prev")]
        if header := ", ".join(f'<{url}>; rel="{rel}"' for url, rel in links if url):
            response["Link"] = header
        return response
