"""Keys: JSON values of any type, encryption, scopes, keystore in workflows, rotation."""

from __future__ import annotations

import base64

import pytest

from attune_core.errors import NotFound, ValidationError
from attune_core.model import ExecutionStatus, OwnerType
from attune_core.security import SecretBox, SecretBoxError
from attune_core.testing import AttuneTestEnvironment

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


async def test_values_keep_their_json_type_and_are_encrypted_at_rest(
    env: AttuneTestEnvironment,
) -> None:
    attune = env.attune
    values = {"a.str": "text", "a.int": 42, "a.bool": False, "a.null": None, "a.list": [1, "x"]}
    for ref, value in values.items():
        await attune.set_key(ref, value)
    secret = await attune.set_key("a.secret", {"user": "ada", "pw": "s3cr3t"}, encrypted=True)
    for ref, value in values.items():
        assert await attune.get_key(ref) == value
    assert await attune.get_key("a.secret") == {"user": "ada", "pw": "s3cr3t"}
    assert "s3cr3t" not in secret.value
    raw = base64.b64decode(secret.value)
    assert len(raw) >= 12 + 16  # nonce + tag
    assert secret.encryption_key_hash == attune.secret_box.key_hash
    # Replacing keeps the ref and may change encryption.
    await attune.set_key("a.secret", "plain now")
    assert await attune.get_key("a.secret") == "plain now"
    await attune.delete_key("a.secret")
    with pytest.raises(NotFound):
        await attune.get_key("a.secret")
    with pytest.raises(ValidationError):
        await attune.set_key("Bad Ref", 1)


async def test_owner_scopes(env: AttuneTestEnvironment) -> None:
    attune = env.attune
    key = await attune.set_key("demo.k", 1, owner_type="pack", owner="demo")
    assert key.owner_type is OwnerType.PACK and key.owner == "demo" and key.owner_pack
    action_key = await attune.set_key("demo.add.k", 2, owner_type="action", owner="demo.add")
    assert action_key.owner_action_ref == "demo.add"
    with pytest.raises(NotFound):
        await attune.set_key("x.k", 1, owner_type="pack", owner="nope")
    with pytest.raises(ValidationError):
        await attune.set_key("x.k", 1, owner_type="pack")
    assert [k.ref for k in await attune.keys(owner_type="pack")] == ["demo.k"]


async def test_workflows_read_the_keystore_and_pack_config_may_reference_keys(
    env: AttuneTestEnvironment,
) -> None:
    attune = env.attune
    noop = env.mock_action("core.noop", {})
    await attune.set_key("token", {"user": "ada"}, encrypted=True)
    await attune.set_key("count", 3)
    await attune.set_key("demo.only", "mine", name="demo_only", owner_type="pack", owner="demo")
    await attune.set_key("other.only", "theirs", name="demo_only", owner_type="pack", owner="core")
    async with attune.store.transaction() as uow:
        pack = await uow.packs.get_by_ref("demo")
        await uow.packs.update(pack.id, config={"greeting": "{{ keystore.count }} hi"})
    done = await env.run("demo.keyed")
    assert done.status is ExecutionStatus.COMPLETED, done.result
    assert noop.calls == [{"message": "ada:mine:3 hi", "exit_code": 0}]
    assert done.result == {"count": 3}


async def test_rule_action_params_see_pack_config_with_keystore_references_resolved(
    env: AttuneTestEnvironment,
) -> None:
    attune = env.attune
    noop = env.mock_action("core.noop", {})
    await attune.set_key("api.token", "tok-123456", name="api_token", encrypted=True)
    await attune.set_key("demo.region", "eu-1", name="region", owner_type="pack", owner="demo")
    await attune.set_key("core.region", "wrong", name="region", owner_type="pack", owner="core")
    async with attune.store.transaction() as uow:
        pack = await uow.packs.get_by_ref("demo")
        await uow.packs.update(
            pack.id,
            config={
                "auth": "Bearer {{ keystore.api_token }}",
                "where": {"region": "{{ keystore.region }}"},
                "missing": "{{ keystore.nope }}",
            },
        )
    await attune.create_rule(
        "demo.keyed_rule",
        trigger_ref="core.webhook",
        action_ref="core.noop",
        action_params={
            "message": "{{ pack.config.auth }} in {{ pack.config.where.region }}"
            " ({{ pack.config.missing }})"
        },
    )
    await attune.fire("core.webhook", {})
    await env.settle()
    assert noop.calls == [{"message": "Bearer tok-123456 in eu-1 ()", "exit_code": 0}]
    # The stored pack config keeps the reference, not the secret.
    async with attune.store.read() as uow:
        stored = await uow.packs.get_by_ref("demo")
    assert stored.config["auth"] == "Bearer {{ keystore.api_token }}"


async def test_rotation_re_encrypts_everything(env: AttuneTestEnvironment) -> None:
    attune = env.attune
    await attune.set_key("r.one", "1", encrypted=True)
    await attune.set_key("r.two", [2], encrypted=True)
    await attune.set_key("r.plain", "p")
    new_key = "n" * 40
    assert await attune.rotate_keys(new_key) == 2
    new_box = SecretBox(new_key)
    stored = {k.ref: k for k in await attune.keys()}
    assert new_box.open(stored["r.two"].value) == [2]
    assert stored["r.one"].encryption_key_hash == new_box.key_hash
    with pytest.raises(SecretBoxError):
        attune.secret_box.open(stored["r.one"].value)
