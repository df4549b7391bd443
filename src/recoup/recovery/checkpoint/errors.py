"""Errors raised by durable workflows; each names the workflow, run or step a caller must act on."""

from __future__ import annotations

from recoup.policies.errors import RecoupError


class CheckpointError(RecoupError):
    """Base of every error raised by the checkpoint machinery itself."""


class NotSerializableError(CheckpointError, TypeError):
    """A step result (or a run's final result) cannot be stored as JSON, so it cannot be replayed."""

    def __init__(self, workflow: str, what: str, value: object, cause: Exception) -> None:
        self.workflow = workflow
        self.what = what
        super().__init__(
            f"{what} of workflow {workflow!r} returned a {type(value).__name__}, which is not JSON-serialisable "
            f"({cause}); return plain dicts/lists/str/int/float/bool/None so the result can be checkpointed"
        )


class RunLeaseHeld(CheckpointError):
    """Another live runner holds this run's lease, so running it here could repeat a step."""

    def __init__(self, run_id: str, holder: str | None, expires_in: float) -> None:
        self.run_id = run_id
        self.holder = holder
        self.expires_in = expires_in
        super().__init__(
            f"run {run_id!r} is being executed by {holder!r}; its lease expires in {max(expires_in, 0.0):.3f}s "
            "(pass wait= to wait for it, or retry after the lease expires)"
        )


class LeaseLost(CheckpointError):
    """This runner's lease was taken over (it expired); the run continues elsewhere, so stop here."""

    def __init__(self, run_id: str, owner: str) -> None:
        self.run_id = run_id
        self.owner = owner
        super().__init__(
            f"run {run_id!r}: runner {owner!r} lost its lease (it expired and another runner took the run over); "
            "make lease_seconds longer than the longest step"
        )


class WorkflowMismatch(CheckpointError, ValueError):
    """The run id already belongs to a different workflow; reusing it would mix two step histories."""

    def __init__(self, run_id: str, expected: str, found: str) -> None:
        super().__init__(f"run {run_id!r} belongs to workflow {found!r}, not {expected!r}; use another run id")


class InputsMismatch(CheckpointError, ValueError):
    """The run id was used before with other inputs; resuming would mix results of different inputs."""

    def __init__(self, run_id: str, stored: object, given: object) -> None:
        self.run_id = run_id
        self.stored = stored
        self.given = given
        super().__init__(
            f"run {run_id!r} was started with inputs {stored!r}, not {given!r}; "
            "an idempotency key must always name the same work, so use a new run id"
        )


class StepOutsideRun(CheckpointError, RuntimeError):
    """A step was called when no run of its workflow is active, so there is nowhere to checkpoint it."""

    def __init__(self, workflow: str, step: str) -> None:
        super().__init__(
            f"step {step!r} of workflow {workflow!r} was called outside a run; call it from the workflow's "
            "main function via wf.run(key, ...) (the undecorated function is `step.__wrapped__`)"
        )
