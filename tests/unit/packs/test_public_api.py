"""The public surfaces of attune_core.packs and attune_core.schema change only deliberately."""

from __future__ import annotations

import attune_core.packs
import attune_core.schema


def test_packs_public_surface_is_pinned() -> None:
    assert sorted(attune_core.packs.__all__) == [
        "ActionSpec",
        "Dependency",
        "PackLoadError",
        "PackSpec",
        "PackWarning",
        "PolicySpec",
        "RUNNER_ALIASES",
        "RegistrationResult",
        "RuleSpec",
        "RunnerRef",
        "RuntimeSpec",
        "RuntimeVersionSpec",
        "SensorSpec",
        "Source",
        "TriggerSpec",
        "VersionConstraint",
        "WorkflowSpec",
        "load_pack",
        "parse_dependency",
        "parse_version",
        "register_pack",
        "register_packs",
        "runner_ref",
        "unregister_pack",
    ]


def test_schema_public_surface_is_pinned() -> None:
    assert sorted(attune_core.schema.__all__) == [
        "FLAT_TYPES",
        "ParameterProblem",
        "ParameterValidationError",
        "SECRET_MASK",
        "SchemaError",
        "SchemaProblem",
        "apply_defaults",
        "check_schema",
        "is_legacy_schema",
        "mask_secrets",
        "normalize_schema",
        "parameter_problems",
        "secret_fields",
        "to_json_schema",
        "validate_parameters",
        "validate_schema",
    ]
