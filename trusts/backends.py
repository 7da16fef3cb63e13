"""Authentication: Django's ModelBackend, with the read every signed-in request makes shaped for the warm page.

A cached page (config/pages/page_cache.py) is keyed on who asks: the user and their memberships in force today,
read again on every request so that a role granted or ended shows at once. ModelBackend reads the user and the page
cache then read the memberships: two ORM queries, which cost more to compile than a warm page costs to serve. Here
both are one raw query (raw SQL is not compiled)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.utils import timezone

from trusts.models import Membership

# The memberships in force on a day: MembershipQuerySet.current() as SQL (tests/trusts/test_backends.py checks that
# the two agree on every edge: starting, ending, ended, not yet started).
_USER_WITH_ROLES = """
    SELECT u.*, m.id AS membership_id, m.role AS membership_role, m.trust_id AS membership_trust_id,
           m.ics_id AS membership_ics_id
    FROM {users} u
    LEFT JOIN {memberships} m ON m.user_id = u.id AND m.starts_on <= %s AND (m.ends_on IS NULL OR m.ends_on > %s)
    WHERE u.id = %s
    ORDER BY m.id"""


class UserWithRolesBackend(ModelBackend):
    def get_user(self, user_id):
        """The user, carrying `roles_in_force`: (id, role, trust id, ICS id) of each membership in force today, in id
        order; read by trusts.permissions.roles_in_force."""
        users = get_user_model()
        today = timezone.localdate().isoformat()
        sql = _USER_WITH_ROLES.format(users=users._meta.db_table, memberships=Membership._meta.db_table)
        rows = list(users._default_manager.raw(sql, [today, today, user_id]))
        if not rows:
            return None
        user = rows[0]
        user.roles_in_force = tuple(
            (row.membership_id, row.membership_role, row.membership_trust_id, row.membership_ics_id)
            for row in rows
            if row.membership_id is not None
        )
        return user if self.user_can_authenticate(user) else None
