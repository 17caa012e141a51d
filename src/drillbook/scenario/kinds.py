"""The four families of pluggable kinds: services, faults, steps and probes.

A kind is a frozen pydantic model with a `kind: Literal["..."]` field, registered in its
family's registry (drillbook.registry). Faults, steps and probes carry their behaviour as the
one method of their family; the method's docstring is the contract.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from pydantic import Field

from drillbook.scenario.types import IDENTIFIER, Duration, Model

if TYPE_CHECKING:
    from drillbook.context import DrillContext


class KindModel(Model):
    kind: str
    family: ClassVar[str] = ""


class External(Model):
    """A service that already runs (staging, a compose stack): drillbook attaches, never
    provisions, starts or stops it, and refuses destructive faults on it unless the command
    line says --allow-external-faults."""

    url: str | None = Field(None, description="http(s) URL, or the S3 endpoint URL")
    dsn: str | None = Field(None, description="postgres: libpq URL (prefer dsn_env for secrets)")
    dsn_env: str | None = Field(None, description="read the DSN from this host variable")
    env: dict[str, str] = Field(
        default_factory=dict, description="extra contract variables this service provides"
    )


class ServiceSpec(KindModel):
    """A service to provision. Backends map each kind to how they start it."""

    family: ClassVar[str] = "service"
    startup_timeout: Duration = Field(
        60.0, description="how long the service may take to be healthy"
    )
    primary: bool | None = Field(
        None,
        description="export the canonical contract names (DATABASE_URL, ...) for this service; "
        "default: the first service of its kind",
    )
    external: External | None = Field(
        None, description="attach to this running service instead of provisioning one"
    )


class FaultOutcome(Model):
    target: str
    detail: dict[str, str] = Field(default_factory=dict)


class FaultSpec(KindModel):
    family: ClassVar[str] = "fault"
    # Dry runs skip destructive faults; a fault that only observes may set this False.
    destructive: ClassVar[bool] = True

    def inject(self, ctx: DrillContext) -> FaultOutcome:
        """Break the drill's own environment as described, then return at once.

        Touch only what the drill provisioned. Raise FaultError when the fault cannot be
        injected (its target is missing); the run then ends as COULD NOT VERIFY. Return what
        was done (the target and details such as the line corrupted) for the journal.
        """
        raise NotImplementedError

    def revert(self, ctx: DrillContext) -> None:
        """Undo what `inject` did that outlives the drill (none for most faults). Never raises."""
        return None


class StepOutcome(Model):
    ok: bool
    exit_code: int | None = None
    stdout: str = ""
    output_tail: tuple[str, ...] = ()
    timed_out: bool = False
    error: str | None = None
    detail: dict[str, str] = Field(default_factory=dict)


class StepSpec(KindModel):
    family: ClassVar[str] = "step"
    destructive: ClassVar[bool] = True
    id: str | None = Field(
        None, pattern=IDENTIFIER, description="name to refer to this step's output"
    )
    timeout: Duration = Field(300.0, description="the step is killed (process group) after this")
    description: str | None = None
    requires: list[str] = Field(
        default_factory=list, description="tools the step needs on PATH (checked by preflight)"
    )

    def execute(self, ctx: DrillContext, timeout: float) -> StepOutcome:
        """Carry out the step once, within `timeout` seconds.

        Never raise for a step that ran and failed: return ok=False with the exit code, the
        last lines of output and an error sentence. On timeout kill everything the step started
        (its process group) and return timed_out=True. Raise StepError only when the step is
        misconfigured in a way validation could not see.
        """
        raise NotImplementedError


class ProbeResult(Model):
    ok: bool
    detail: str = ""


class ProbeSpec(KindModel):
    family: ClassVar[str] = "probe"
    name: str | None = Field(None, description="label in reports; default: kind and target")
    timeout: Duration = Field(2.0, description="one check fails if it takes longer")

    def label(self) -> str:
        return self.name or self.kind

    def check(self, ctx: DrillContext, timeout: float) -> ProbeResult:
        """Observe the steady state once, within `timeout` seconds, without changing anything.

        Return ok=False with a short reason for any failure (refused connection, wrong status,
        wrong value); never raise for what the system under drill does. Must be safe to call
        from the sampler thread while steps run.
        """
        raise NotImplementedError
