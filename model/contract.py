"""The names, severities and bases that ../shared/spec/CONTRACT.md (version 2) fixes. Checked
against the procedure file on load.

Auditors' mapping files, scenario files and test data depend on these strings: the
project may add to them, never rename or drop them.
"""

from __future__ import annotations

from typing import Final, NamedTuple

CONTRACT_VERSION: Final = 2

ACTIVITIES: tuple[str, ...] = (
    "Concern identified",
    "Line manager informed",
    "Senior manager informed",
    "Whistleblowing procedure used",
    "Computer secured",
    "Computer used",
    "Images downloaded or distributed",
    "LADO contacted",
    "Police notified",
    "Social care notified",
    "Actions agreed with police",
    "Access details provided to police",
    "Computer seized by police",
    "Employee actions agreed",
    "Access to children assessed",
    "Concerns discussed with police and social care",
    "Family informed",
    "Information shared",
    "Strategy discussion held",
    "Section 47 enquiry started",
    "Section 47 enquiry completed",
    "Initial child protection conference held",
    "Child identification investigation continued",
    "National specialist services informed",
    "Allegations procedure started",
    "Abuse by children procedure considered",
    "Abuse by children procedure started",
    "Statutory assessment started",
    "Outcome 21 recorded",
    "Case closed",
)

ATTRIBUTES: tuple[str, ...] = (
    "concern_about_line_manager",
    "children_at_continuing_risk",
    "adult_in_contact_with_children",
    "alleged_is_child",
    "youth_produced_imagery",
    "offence",
)

# The values of the categorical attribute `offence` (CONTRACT §2); empty = unknown.
OFFENCES: tuple[str, ...] = ("indecent-images", "grooming", "sexual-communication")


class ContractRule(NamedTuple):
    """A rule's clause, severity and basis as CONTRACT §5 gives them."""

    clause: str
    severity: str  # "violation" or "warning"
    basis: str  # "text" or "interpretation"


RULES: dict[str, ContractRule] = {
    "escalated-same-working-day": ContractRule("§7.1, §7.2, §7.5", "violation", "text"),
    "line-manager-bypassed-when-implicated": ContractRule("§7.2", "violation", "text"),
    "computer-secured-same-working-day": ContractRule("§7.3, §4 ¶5", "warning", "interpretation"),
    "secured-computer-not-used": ContractRule("§7.3, §4 ¶5", "violation", "text"),
    "no-image-handling": ContractRule("§4 ¶3-4", "violation", "text"),
    "lado-same-day": ContractRule("§7.4", "violation", "text"),
    "police-immediately": ContractRule("§4 ¶4", "warning", "text"),
    "police-same-working-day": ContractRule("§7.6", "violation", "text"),
    "access-details-provided": ContractRule("§4 ¶5", "warning", "interpretation"),
    "employee-actions-agreed": ContractRule("§7.7", "violation", "text"),
    "employee-actions-after-lado": ContractRule("§7.7", "warning", "interpretation"),
    "police-and-social-care-notified": ContractRule("§5 ¶1-2", "violation", "text"),
    "discuss-before-informing-family": ContractRule("§5 ¶3", "warning", "text"),
    "information-shared-before-strategy-discussion": ContractRule("§5 ¶4", "warning", "text"),
    "section-47-after-strategy-discussion": ContractRule("§5 ¶5", "warning", "interpretation"),
    "icpc-within-15-working-days": ContractRule("§6 ¶1", "violation", "text"),
    "unidentified-child-investigation": ContractRule("§6 ¶2", "warning", "text"),
    "allegations-procedure-when-working-with-children": ContractRule(
        "§6 ¶3, §7.8", "warning", "text"
    ),
    "child-alleged-procedure": ContractRule("§6 ¶4", "warning", "text"),
    "outcome-21-only-for-young-people": ContractRule("§1 ¶4", "warning", "text"),
}

RULE_IDS: tuple[str, ...] = tuple(RULES)

# "Manager informed" in CONTRACT §5: the first of these.
MANAGER_INFORMED: tuple[str, ...] = (
    "Line manager informed",
    "Senior manager informed",
    "Whistleblowing procedure used",
)
CONCERN_IDENTIFIED = "Concern identified"
CASE_CLOSED = "Case closed"
SOCIAL_CARE_NOTIFIED = "Social care notified"
STRATEGY_DISCUSSION = "Strategy discussion held"
POLICE_NOTIFIED = "Police notified"
SECTION_47_STARTED = "Section 47 enquiry started"
