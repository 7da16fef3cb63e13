from django.urls import path

from trusts import account_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("account/invitations/", account_views.invitations, name="invitations"),
    path("account/invitations/<int:pk>/withdraw/", account_views.withdraw_invitation, name="withdraw_invitation"),
    path("account/invitation/<str:token>/", account_views.accept_invitation, name="accept_invitation"),
    path(
        "account/set-password/<uidb64>/<token>/",
        account_views.SetPasswordView.as_view(),
        name="set_password",
    ),
]
