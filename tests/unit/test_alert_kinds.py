"""The alert vocabulary: one enum with its Dutch labels, and one name per target."""

from __future__ import annotations

from datetime import date

from imvo_workflow.domain.alerts import AlertKind
from imvo_workflow.domain.targets import target_name
from imvo_workflow.notify.message import AlertMessage


def test_every_kind_has_a_dutch_label_and_keeps_its_stored_value() -> None:
    assert {kind.value: kind.label for kind in AlertKind} == {
        "reminder": "Herinnering",
        "due": "Deadline verstreken",
        "escalation": "Escalatie",
        "digest": "Dagoverzicht",
        "checkpoint": "Checkpoint",
        "delivery_failed": "Bezorging mislukt",  # issue 11: to admins, per failed delivery
    }
    assert [kind for kind in AlertKind if not kind.of_target] == [
        AlertKind.DIGEST,
        AlertKind.CHECKPOINT,
        AlertKind.DELIVERY_FAILED,
    ]


def test_a_target_is_named_by_its_milestone_or_its_stage() -> None:
    assert target_name("ondertekend", None) == "fase ondertekend"
    assert target_name(None, "Plan van aanpak gepubliceerd") == "Plan van aanpak gepubliceerd"
    assert target_name(None, None) == ""


def _message(kind: AlertKind, lines: tuple[str, ...] = ()) -> AlertMessage:
    return AlertMessage(
        alert_id=1,
        key="k",
        kind=kind,
        days=0,
        covenant="",
        title="",
        sector="",
        stage="",
        what="",
        phrase="",
        deadline=None,
        today=date(2016, 11, 1),
        lines=lines,
    )


def test_a_checkpoint_mail_says_its_lines_not_a_passed_deadline() -> None:
    # It fell through to the deadline text ("De termijn ... is verstreken") before issue 10.
    message = _message(
        AlertKind.CHECKPOINT, ("Checkpoint 3: 21 convenanten, 80 rijen", "digest ab")
    )
    assert message.subject() == "[IMVO] Checkpoint 2016-11-01"
    assert message.text() == "Checkpoint 3: 21 convenanten, 80 rijen\ndigest ab\n"
    assert message.payload()["kind"] == "checkpoint"


def test_a_digest_mail_reads_as_before() -> None:
    message = _message(AlertKind.DIGEST, ("- a",))
    assert message.subject() == "[IMVO] Dagoverzicht 2016-11-01"
    assert message.text() == "Goedemorgen,\n\nDit staat er vandaag open:\n\n- a\n"
