"""Log-in with a throttle: after too many failures for one username or from one address, the form refuses for a
while, so passwords cannot be guessed at speed. Counts live in the shared cache."""

from django.conf import settings
from django.contrib.auth.views import LoginView
from django.core.cache import cache


def _keys(request):
    username = request.POST.get("username", "").strip().lower()
    address = request.META.get("REMOTE_ADDR", "")
    return [f"login-failures:user:{username}", f"login-failures:address:{address}"]


def is_throttled(request) -> bool:
    return any((cache.get(key) or 0) >= settings.LOGIN_FAILURE_LIMIT for key in _keys(request))


def record_failure(request) -> None:
    for key in _keys(request):
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
