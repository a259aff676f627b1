"""The schema of the seed file (data/voortgang-2016.yaml): strict, so a typo is refused."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from imvo_workflow.domain.bounds import MAX_LABEL
from imvo_workflow.domain.yamlfile import YamlDocument

SEED_2016 = Path(__file__).resolve().parent.parent / "data" / "voortgang-2016.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SeedSector(_Strict):
    slug: str = Field(pattern=r"^[a-z0-9-]+$")
    name: str
    group: Literal["risicosector", "overige"]
    parent: str | None = None


class SeedOrganisation(_Strict):
    name: str = Field(min_length=1, max_length=MAX_LABEL)
    full_name: str | None = Field(default=None, max_length=MAX_LABEL)
    kind: Literal[
        "brancheorganisatie",
        "bedrijf",
        "vakbond",
        "ngo",
        "overheid",
        "kennisinstelling",
        "facilitator",
    ]


class SeedStep(_Strict):
    stage: str
    on: date
    by: str
    reason: str = ""


class SeedTarget(_Strict):
    stage: str | None = None
    milestone: str | None = None
    phrase: str
    description: str = ""
    reference: date | None = None

    @model_validator(mode="after")
    def _stage_xor_milestone(self) -> SeedTarget:
        if (self.stage is None) == (self.milestone is None):
            raise ValueError("geef óf 'stage' óf 'milestone'")
        return self


class SeedCovenant(_Strict):
    slug: str = Field(pattern=r"^[a-z0-9-]+$")
    sector: str
    title: str
    parent: str | None = None
    trekker: str | None = None
    facilitator: str | None = None
    parties: list[str] = []
    #: Named in the covenant's section without a role the document states (role "betrokken").
    involved: list[str] = []
    summary: str = ""
    notes: list[str] = []
    history: list[SeedStep] = Field(min_length=1)
    targets: list[SeedTarget] = []
    #: Why this covenant reads differently than in an earlier version of the file: the reason
    #: of the entries `imvo seed` appends to a database seeded from that version.
    revised: str = ""


class SeedFile(_Strict):
    report_date: date
    reference_date: date
    #: The same for every covenant without a `revised` of its own.
    revised: str = ""
    sectors: list[SeedSector]
    organisations: list[SeedOrganisation]
    covenants: list[SeedCovenant]


def read_seed_file(path: Path) -> SeedFile:
    return YamlDocument.read(path).validate(SeedFile)
