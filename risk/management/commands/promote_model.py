"""Make a trained model version its card's champion: an explicit, recorded act with a reason."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from risk.errors import RiskError
from risk.models import Card, ModelVersion
from risk.services.registry import model_version_promote


class Command(BaseCommand):
    help = ("Promote a model version to champion of its card, retiring the previous champion. "
            "The promotion is recorded with its reason and, with --by, the person responsible.")

    def create_parser(self, prog_name, subcommand, **kwargs):
        # --version names the model version here, in place of Django's "print Django's version".
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("--card", required=True, choices=Card.values)
        parser.add_argument("--version", required=True, type=int, dest="number",
                            help="the version number within the card")
        parser.add_argument("--reason", required=True, help="why this model should serve")
        parser.add_argument("--by", metavar="USERNAME",
                            help="the staff member promoting it (needs the permission to "
                                 "promote models, e.g. the Risk manager role)")

    def handle(self, *args, card, number, reason, by, **options):
        promoted_by = _promoter(by) if by else None
        try:
            version = ModelVersion.objects.get(card=card, version=number)
        except ModelVersion.DoesNotExist:
            known = ", ".join(f"v{v} ({s})" for v, s in ModelVersion.objects.filter(card=card)
                              .order_by("version").values_list("version", "status"))
            raise CommandError(f"No {card} model has version {number}. "
                               f"{card} versions: {known or 'none yet'}.") from None
        try:
            promotion = model_version_promote(model_version_id=version.pk,
                                              promoted_by=promoted_by, reason=reason)
        except RiskError as exc:
            raise CommandError(str(exc)) from None
        replaced = promotion.previous_champion
        self.stdout.write(f"{card} v{number} is now the champion"
                          + (f", replacing v{replaced.version}." if replaced else "."))


def _promoter(username):
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"No user named {username!r}.")
    if not user.has_perm("risk.promote_modelversion"):
        raise CommandError(f"{username} may not promote models (needs the Risk manager role).")
    return user
