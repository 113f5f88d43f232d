"""Double-entry postings. Every money movement is one balanced journal entry."""

from collections import defaultdict
from decimal import Decimal

from core.batch import BATCH

from ..models import AccountKind, JournalEntry, LedgerAccount, Posting

CASH = "cash"
INTEREST_RECEIVABLE = "interest_receivable"
INTEREST_INCOME = "interest_income"
FEE_INCOME = "fee_income"
PENALTY_RECEIVABLE = "penalty_receivable"
PENALTY_INCOME = "penalty_income"
# Write-offs (lending/services/write_off.py): the platform's own share of principal written
# off is a loss; money received on a written-off loan, less the banks' shares, is income.
CREDIT_LOSS = "credit_loss"
RECOVERY_INCOME = "recovery_income"
PLATFORM = "platform"
# The pay-later line (花呗, lending/services/revolving/): principal owed on purchases, what is
# owed to merchants until they are paid, the merchant discount, statement interest and plan
# fees, and money the platform owes a customer (a refund on a statement already paid).
PAY_LATER_RECEIVABLE = "pay_later_receivable"
MERCHANT_PAYABLE = "merchant_payable"
MERCHANT_FEE_INCOME = "merchant_fee_income"
REVOLVING_INTEREST_INCOME = "revolving_interest_income"
PLAN_FEE_RECEIVABLE = "plan_fee_receivable"
PLAN_FEE_INCOME = "plan_fee_income"
CUSTOMER_CREDIT = "customer_credit"

PLATFORM_ACCOUNTS = [
    (CASH, "Cash", AccountKind.ASSET),
    (INTEREST_RECEIVABLE, "Interest receivable", AccountKind.ASSET),
    (INTEREST_INCOME, "Interest income", AccountKind.INCOME),
    (FEE_INCOME, "Fee income", AccountKind.INCOME),
    (PENALTY_RECEIVABLE, "Penalty receivable", AccountKind.ASSET),
    (PENALTY_INCOME, "Penalty income", AccountKind.INCOME),
    (CREDIT_LOSS, "Credit losses (platform's share of write-offs)", AccountKind.EXPENSE),
    (RECOVERY_INCOME, "Recoveries on written-off loans", AccountKind.INCOME),
    (f"principal_receivable:{PLATFORM}", "Principal receivable (platform-funded)",
     AccountKind.ASSET),
    (PAY_LATER_RECEIVABLE, "Pay-later principal receivable", AccountKind.ASSET),
    (MERCHANT_PAYABLE, "Owed to merchants", AccountKind.LIABILITY),
    (MERCHANT_FEE_INCOME, "Merchant fee income", AccountKind.INCOME),
    (REVOLVING_INTEREST_INCOME, "Revolving interest income", AccountKind.INCOME),
    (PLAN_FEE_RECEIVABLE, "Instalment plan fees receivable", AccountKind.ASSET),
    (PLAN_FEE_INCOME, "Instalment plan fee income", AccountKind.INCOME),
    (CUSTOMER_CREDIT, "Customers' credit balances", AccountKind.LIABILITY),
]


def principal_receivable(funder_code: str) -> str:
    """Principal owed by borrowers on the part of loans this funder paid for."""
    return f"principal_receivable:{funder_code}"


def partner_funding(bank_code: str) -> str:
    """The partner bank's stake in loans it funded (what it put in, not yet returned)."""
    return f"partner_funding:{bank_code}"


def partner_payable(bank_code: str) -> str:
    """Collections that belong to the partner bank and are owed to it."""
    return f"partner_payable:{bank_code}"


def chart_of_accounts_ensure(partner_bank=None):
    """Create the platform's accounts, and a partner bank's own, if they do not exist yet."""
    wanted = list(PLATFORM_ACCOUNTS)
    if partner_bank is not None:
        code = partner_bank.code
        wanted += [
            (principal_receivable(code), f"Principal receivable ({partner_bank.name})",
             AccountKind.ASSET),
            (partner_funding(code), f"Partner funding ({partner_bank.name})",
             AccountKind.LIABILITY),
            (partner_payable(code), f"Partner payable ({partner_bank.name})",
             AccountKind.LIABILITY),
        ]
    for code, name, kind in wanted:
        bank = partner_bank if partner_bank is not None and code.endswith(
            f":{partner_bank.code}") else None
        LedgerAccount.objects.get_or_create(
            code=code, defaults={"name": name, "kind": kind, "partner_bank": bank})


def _accounts_by_code(codes):
    accounts = {a.code: a for a in LedgerAccount.objects.filter(code__in=codes)}
    missing = set(codes) - set(accounts)
    if missing:
        raise LookupError(f"ledger accounts missing: {sorted(missing)}")
    return accounts


def legs_merge(kind, legs) -> list[tuple[str, Decimal]]:
    """Legs on the same account merged, zero legs dropped, sorted by account code; refused
    unless they balance (the database checks it again at commit)."""
    merged = defaultdict(Decimal)
    for code, amount in legs:
        merged[code] += amount
    merged = {code: amount for code, amount in merged.items() if amount != 0}
    if sum(merged.values(), Decimal("0")) != 0:
        raise ValueError(f"unbalanced {kind} entry: {merged}")
    return sorted(merged.items())


def journal_entry_post(*, kind, business_date, loan=None, line=None, legs, memo=""):
    """Post one entry. `legs` are (account code, signed amount): debit positive, credit
    negative. A pay-later line's entries carry the `line` instead of a loan."""
    merged = legs_merge(kind, legs)
    accounts = _accounts_by_code([code for code, _amount in merged])
    entry = JournalEntry.objects.create(kind=kind, business_date=business_date, loan=loan,
                                        line=line, memo=memo)
    Posting.objects.bulk_create(
        Posting(entry=entry, account=accounts[code], loan=loan, line=line, amount=amount)
        for code, amount in merged
    )
    return entry


class JournalBatch:
    """Many entries of one business date, posted together: the set-based twin of
    `journal_entry_post`, with the same merging and the same balance check per entry."""

    def __init__(self, business_date, codes=None):
        """`codes`: the only accounts the entries will use, when they are few (one read of
        those instead of the whole chart)."""
        self.business_date = business_date
        self.entries = []
        self.legs = []
        accounts = LedgerAccount.objects.all() if codes is None else (
            LedgerAccount.objects.filter(code__in=codes))
        self.accounts = dict(accounts.values_list("code", "pk"))

    def add(self, *, kind, legs, memo, loan_id=None, line_id=None):
        self.legs.append(legs_merge(kind, legs))
        self.entries.append(JournalEntry(kind=kind, business_date=self.business_date,
                                         loan_id=loan_id, line_id=line_id, memo=memo))

    def post(self):
        entries = JournalEntry.objects.bulk_create(self.entries, batch_size=BATCH)
        Posting.objects.bulk_create(
            [Posting(entry_id=entry.pk, account_id=self.accounts[code], loan_id=entry.loan_id,
                     line_id=entry.line_id, amount=amount)
             for entry, legs in zip(entries, self.legs, strict=True) for code, amount in legs],
            batch_size=BATCH)
        return entries
