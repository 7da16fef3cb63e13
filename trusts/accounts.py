"""Log-in with a throttle, so passwords cannot be guessed at speed. Counts live in the shared cache, per client
address, per username from that address, and per username from anywhere with a higher limit: one address cannot
lock a named person out (a distributed guesser still slows to USERNAME_LIMIT_FACTOR × the limit)."""

from django.conf import settings
from django.contrib.auth.views import LoginView
from django.core.cache import cache

# A username alone is refused only after this many times the limit, from any mix of addresses.
USERNAME_LIMIT_FACTOR = 10


def client_address(request) -> str:
    """The address of the person, not of our proxy. Behind TRUSTED_PROXY_COUNT proxies (BEHIND_TLS_PROXY), each
    appends the address it was reached from to X-Forwarded-For, so the one the outermost proxy saw is that many from
    the end; anything before it the client wrote itself. Without a proxy the header is the client's to forge and is
    ignored. DRF's throttles read the same through NUM_PROXIES."""
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if proxies and forwarded:
        return forwarded[-min(proxies, len(forwarded))]
    return request.META.get("REMOTE_ADDR", "")


def _limits(request) -> list[tuple[str, int]]:
    username = request.POST.get("username", "").strip().lower()
    address = client_address(request)
    limit = settings.LOGIN_FAILURE_LIMIT
    return [
        (f"login-failures:address:{address}", limit),
        (f"login-failures:user-at:{username}@{address}", limit),
        (f"login-failures:user:{username}", limit * USERNAME_LIMIT_FACTOR),
    ]


def is_throttled(request) -> bool:
    return any((cache.get(key) or 0) >= limit for key, limit in _limits(request))


def record_failure(request) -> None:
    for key, _limit in _limits(request):
        cache.add(key, 0, timeout=settings.LOGIN_FAILURE_WINDOW_SECONDS)
        cache.incr(key)


class ThrottledLoginView(LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        if is_throttled(request):
            # Refuse before the form authenticates: a throttled guess must not learn whether it was right.
            minutes = settings.LOGIN_FAILURE_WINDOW_SECONDS // 60
            context = self.get_context_data(
                form=self.form_class(request),
                throttle_message=f"Too many failed log-in attempts. Wait {minutes} minutes and try again.",
            )
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        record_failure(self.request)
        return super().form_invalid(form)
