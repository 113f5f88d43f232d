"""The baseline the decision is compared with: a signed-in POST, CSRF-checked like the
application form, that does one INSERT and answers with a redirect, as the apply page does."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from .models import BaselineInsert


@login_required
@require_POST
def one_insert(request):
    row = BaselineInsert.objects.create(customer_id=request.user.pk)
    return redirect(f"/bench/insert/{row.pk}/")
