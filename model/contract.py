"""The names that ../shared/spec/CONTRACT.md fixes. Checked against the procedure file on load.

Auditors' mapping files, scenario files and test data depend on these strings: the
project may add to them, never rename or drop them.
"""

from __future__ import annotations

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
    "Abuse by children procedure started",
    "Outcome 21 recorded",
    "Case closed",
)

ATTRIBUTES: tuple[str, ...] = (
    "concern_about_line_manager",
    "children_at_continuing_risk",
    "adult_in_contact_with_children",
    "alleged_is_child",
)

RULE_IDS: tuple[str, ...] = (
    "escalated-same-working-day",
    "line-manager-bypassed-when-implicated",
    "computer-secured-same-working-day",
    "secured-computer-not-used",
    "no-image-handling",
    "lado-same-day",
    "police-immediately",
    "police-same-working-day",
    "access-details-provided",
    "employee-actions-after-lado",
    "police-and-social-care-notified",
    "discuss-before-informing-family",
    "information-shared-before-strategy-discussion",
    "section-47-after-strategy-discussion",
    "icpc-within-15-working-days",
    "unidentified-child-investigation",
    "allegations-procedure-when-working-with-children",
    "child-alleged-procedure",
    "outcome-21-only-for-young-people",
)

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
