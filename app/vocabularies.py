"""Every closed vocabulary of the fact file and the API, with a definition for each value.

The values themselves are the enums of ``app.models``; this module says what each one
means. The same definitions feed ``GET /vocabularies``, the fact file's JSON Schema (a
``description`` per value) and the README. A test checks every value has a definition.
"""

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from app.models import (
    STATUS_DEFINITIONS,
    ClaimKind,
    EntityKind,
    EventKind,
    EventModality,
    EvidenceStance,
    RelationPredicate,
    TimePrecision,
    VerificationStatus,
)

ENTITY_KINDS: dict[EntityKind, str] = {
    EntityKind.person: "A human being, named or described by role.",
    EntityKind.organization: (
        "An organisation that is none of the more specific kinds: an association, a "
        "consortium, a state corporation, an NGO."
    ),
    EntityKind.company: "A business run for profit, listed or private.",
    EntityKind.government_body: (
        "A body of a state: a ministry, an embassy, a government, an election commission, a "
        "court, a regulator."
    ),
    EntityKind.international_organization: (
        "An organisation whose members are states or their bodies: the UN, the IAEA, the EAEU."
    ),
    EntityKind.country: "A sovereign state, or a territory commonly treated as one.",
    EntityKind.region: "An area within or across countries: a province, an oblast, a district.",
    EntityKind.city: "A city, town or village.",
    EntityKind.facility: "A built place: a power plant, a port, a mine, a factory, a base.",
    EntityKind.media_outlet: "A news organisation or publication: a newspaper, an agency.",
    EntityKind.channel: "A channel on a platform: a Telegram channel, a YouTube channel.",
    EntityKind.document: "A written record: a letter, a decree, a report, a contract.",
    EntityKind.project: "An undertaking with a goal: a construction project, a programme.",
    EntityKind.political_party: "A party that takes part in elections or politics.",
    EntityKind.armed_group: "An armed force outside a state's command: a militia, an insurgency.",
    EntityKind.product: "A thing made or sold: a reactor design, a vaccine, a model of aircraft.",
    EntityKind.other: "Anything else named in an article: a platform, a law, a brand.",
}

RELATION_PREDICATES: dict[RelationPredicate, str] = {
    RelationPredicate.head_of: "The subject (a person) leads the object (an organisation).",
    RelationPredicate.president_of: "The subject is the president of the object (a country).",
    RelationPredicate.prime_minister_of: "The subject is the prime minister of the object.",
    RelationPredicate.member_of: (
        "The subject belongs to the object: a person to a party, a country to an alliance."
    ),
    RelationPredicate.works_for: "The subject (a person) is employed by the object.",
    RelationPredicate.runs: "The subject operates the object: a person runs a channel.",
    RelationPredicate.owned_by: "The object owns the subject, wholly or in control.",
    RelationPredicate.part_of: "The subject is a component or subdivision of the object.",
    RelationPredicate.located_in: "The subject is situated in the object (a place).",
    RelationPredicate.represents: "The subject acts on behalf of the object: an embassy, a state.",
    RelationPredicate.author_of: "The subject wrote or issued the object (a document).",
    RelationPredicate.addressed_to: "The subject (a document) is addressed to the object.",
    RelationPredicate.published_in: "The subject (a document) appeared in the object (a medium).",
    RelationPredicate.leads: (
        "The subject (an organisation) leads the object: a consortium, a project, a coalition."
    ),
    RelationPredicate.ally_of: "The subject is allied with the object, by treaty or in practice.",
    RelationPredicate.opposes: "The subject is publicly against the object: a plan, a party.",
    RelationPredicate.supports: "The subject publicly backs the object: a plan, a candidate.",
    RelationPredicate.supplier_of: "The subject supplies goods or fuel to the object.",
    RelationPredicate.contractor_of: (
        "The subject carries out work for the object under contract: builds, operates."
    ),
    RelationPredicate.sanctioned: "The subject imposed sanctions on the object.",
    RelationPredicate.attacked: "The subject used force against the object.",
    RelationPredicate.invaded: "The subject sent armed forces into the object (a territory).",
    RelationPredicate.related_to: "A link the other predicates do not describe.",
}

EVENT_KINDS: dict[EventKind, str] = {
    EventKind.referendum: "A vote of the electorate on a question.",
    EventKind.election: "A vote that chooses people for office.",
    EventKind.vote_result: "The announcement of the result of a vote.",
    EventKind.announcement: "A public statement of news by an organisation or official.",
    EventKind.statement: "Something said publicly by a person or body.",
    EventKind.clarification: "A statement correcting or explaining an earlier one.",
    EventKind.letter: "A letter being written or sent.",
    EventKind.publication: "A document or message being made public.",
    EventKind.request: "One party asking another for something.",
    EventKind.inquiry: "A journalist or body asking for information or confirmation.",
    EventKind.meeting: "People meeting in person or remotely.",
    EventKind.agreement: "Parties agreeing on something: a deal, a memorandum, a treaty.",
    EventKind.construction: "Building something: a plant, a road.",
    EventKind.financing: "Money being provided for something.",
    EventKind.decision: "A body deciding something: a government decree, a board resolution.",
    EventKind.selection: "A party being chosen among others: a contractor, a consortium leader.",
    EventKind.appointment: "A person taking or being given a post.",
    EventKind.contract: "A contract being signed.",
    EventKind.negotiation: "Parties negotiating, whether or not they agree.",
    EventKind.visit: "An official visit to a place or a party.",
    EventKind.protest: "People protesting publicly.",
    EventKind.attack: "A use of force against people or things.",
    EventKind.sanction: "Sanctions being imposed or lifted.",
    EventKind.investigation: "An investigation being opened or carried out.",
    EventKind.ruling: "A court or regulator ruling.",
    EventKind.accident: "An unintended harmful event: a crash, a leak, a fire.",
    EventKind.other: "Anything else that happens.",
}

EVENT_MODALITIES: dict[EventModality, str] = {
    EventModality.occurred: "It happened.",
    EventModality.planned: "It is scheduled or intended by those who would carry it out.",
    EventModality.proposed: "Someone suggested it; nobody has agreed to it yet.",
    EventModality.requested: "Someone asked for it; it is not yet agreed.",
    EventModality.conditional: "It will happen only if a stated condition is met.",
    EventModality.cancelled: "It was planned or proposed and was called off.",
}

TIME_PRECISIONS: dict[TimePrecision, str] = {
    TimePrecision.day: "The time is known to the day.",
    TimePrecision.month: "The time is known to the month: it covers the whole month.",
    TimePrecision.year: "The time is known to the year: it covers the whole year.",
}

CLAIM_KINDS: dict[ClaimKind, str] = {
    ClaimKind.statement: "An assertion of fact.",
    ClaimKind.quote: "An assertion given in the claimant's own quoted words.",
    ClaimKind.statistic: "An assertion of a number: a result, a share, a count.",
    ClaimKind.request: "The claimant asks for something; checkable as to whether it was asked.",
    ClaimKind.plan: "The claimant states what it intends or expects to do.",
    ClaimKind.prediction: "A statement about what will happen; usually not checkable yet.",
    ClaimKind.opinion: "A judgement or view; it cannot be true or false.",
    ClaimKind.promise: "A commitment to do something.",
    ClaimKind.denial: "The claimant says something is not so.",
    ClaimKind.accusation: "The claimant says another party did wrong.",
}

EVIDENCE_STANCES: dict[EvidenceStance, str] = {
    EvidenceStance.supports: "The evidence bears the claim out.",
    EvidenceStance.refutes: "The evidence contradicts the claim.",
    EvidenceStance.inconclusive: "The evidence bears on the claim but settles nothing.",
    EvidenceStance.no_answer: "A party asked to confirm has not answered (yet).",
}

STATUSES: dict[VerificationStatus, str] = {
    status: str(info["definition"]) for status, info in STATUS_DEFINITIONS.items()
}


@dataclass(frozen=True)
class Vocabulary:
    """One closed vocabulary: where it is used, and what each of its values means."""

    name: str
    enum: type[StrEnum]
    used_by: tuple[str, ...]
    description: str
    definitions: dict[Any, str]

    def values(self) -> list[dict[str, Any]]:
        out = []
        for member in self.enum:
            value: dict[str, Any] = {"value": member.value, "definition": self.definitions[member]}
            if self.enum is VerificationStatus:
                info = STATUS_DEFINITIONS[VerificationStatus(member.value)]
                value |= {
                    "label": info["label"],
                    "claimreview_rating": info["claimreview_rating"],
                    "fever_label": info["fever_label"],
                }
            out.append(value)
        return out


VOCABULARIES: tuple[Vocabulary, ...] = (
    Vocabulary(
        "entity_kind",
        EntityKind,
        ("entities[].kind",),
        "What kind of thing an entity is.",
        ENTITY_KINDS,
    ),
    Vocabulary(
        "relation_predicate",
        RelationPredicate,
        ("relations[].predicate",),
        "How a relation's subject stands to its object (subject → predicate → object).",
        RELATION_PREDICATES,
    ),
    Vocabulary(
        "event_kind", EventKind, ("events[].kind",), "What kind of thing happened.", EVENT_KINDS
    ),
    Vocabulary(
        "event_modality",
        EventModality,
        ("events[].modality",),
        "Whether an event happened, or is only planned, proposed, requested or conditional.",
        EVENT_MODALITIES,
    ),
    Vocabulary(
        "claim_kind",
        ClaimKind,
        ("claims[].kind",),
        "What kind of statement a claim is.",
        CLAIM_KINDS,
    ),
    Vocabulary(
        "verification_status",
        VerificationStatus,
        ("claims[].status", "events[].status"),
        "How far a claim or event has been confirmed, with the closest ClaimReview rating and "
        "FEVER label (none for a statement that cannot be true or false).",
        STATUSES,
    ),
    Vocabulary(
        "evidence_stance",
        EvidenceStance,
        ("claims[].evidence[].stance",),
        "How a piece of evidence bears on its claim.",
        EVIDENCE_STANCES,
    ),
    Vocabulary(
        "time_precision",
        TimePrecision,
        ("events[].time.precision",),
        "How precisely an event's time is known (set by ingest from how the date is written).",
        TIME_PRECISIONS,
    ),
)

BY_ENUM: dict[type[StrEnum], Vocabulary] = {v.enum: v for v in VOCABULARIES}


def definition(member: StrEnum) -> str:
    """What ``member`` of a closed vocabulary means."""
    return BY_ENUM[type(member)].definitions[member]


def vocabularies() -> list[dict[str, Any]]:
    """Every closed vocabulary, with each value and its definition (the `/vocabularies` body)."""
    return [
        {
            "name": v.name,
            "used_by": list(v.used_by),
            "description": v.description,
            "values": v.values(),
        }
        for v in VOCABULARIES
    ]
