"""Tamper evidence, checked by an independent verifier (tests/independent.py): the Merkle tree against
RFC 9162's definition, our signed notes against the published signed-note vector, and a served checkpoint
against the entries the admin API shows."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from adapters.memory.clock import FrozenClock
from adapters.runtime.logkey import Ed25519Signer, Ed25519Verifier, KeyError_
from domain.merkle import Frontier, inclusion_path, leaf_hash, root_of
from domain.notes import NoteError, open_note, sign
from tests.independent import mth, open_signed_note, parse_checkpoint, verify_inclusion
from tests.unit.fakes import World
from tests.unit.test_console_http import START, TOKEN, Client, make_client
from tests.unit.test_event_log_http import BEARER

# The signed-note vector published with the Go reference implementation (golang.org/x/mod/sumdb/note),
# which C2SP signed-note specifies: the key pair, the text and its signature line.
VECTOR_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
VECTOR_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
VECTOR_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
VECTOR_NOTE = (
    VECTOR_TEXT
    + "\n\u2014 PeterNeumann "
    + "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def test_our_signer_reproduces_the_published_signed_note_byte_for_byte() -> None:
    signer = Ed25519Signer.parse(VECTOR_SKEY)
    assert signer.verifier().text() == VECTOR_VKEY
    assert signer.text() == VECTOR_SKEY
    assert sign(VECTOR_TEXT, signer) == VECTOR_NOTE
    assert open_signed_note(VECTOR_NOTE, VECTOR_VKEY) == VECTOR_TEXT
    assert open_note(VECTOR_NOTE, Ed25519Verifier.parse(VECTOR_VKEY)) == VECTOR_TEXT


@pytest.mark.parametrize(
    "note",
    [
        VECTOR_NOTE.replace("problem,", "problem;"),  # the text altered
        VECTOR_NOTE.replace("x08go", "x08gp"),  # the signature altered
        VECTOR_NOTE[: VECTOR_NOTE.rindex("\u2014")],  # the signature cut off
    ],
)
def test_an_altered_or_truncated_note_is_refused(note: str) -> None:
    with pytest.raises(NoteError):
        open_note(note, Ed25519Verifier.parse(VECTOR_VKEY))


def test_a_note_signed_by_another_key_is_refused() -> None:
    other = Ed25519Signer.generate("PeterNeumann")
    with pytest.raises(NoteError):
        open_note(sign(VECTOR_TEXT, other), Ed25519Verifier.parse(VECTOR_VKEY))


def test_a_mangled_key_is_refused() -> None:
    with pytest.raises(KeyError_):
        Ed25519Verifier.parse(VECTOR_VKEY.replace("c74f20a3", "c74f20a4"))
    with pytest.raises(KeyError_):
        Ed25519Signer.parse(VECTOR_SKEY[:-4])


def test_the_incremental_root_and_every_inclusion_path_agree_with_rfc_9162() -> None:
    leaves = [f"entry {i}".encode() for i in range(40)]
    frontier = Frontier()
    assert frontier.root() == mth([])
    for size in range(1, len(leaves) + 1):
        frontier.append(leaf_hash(leaves[size - 1]))
        hashed = [leaf_hash(leaf) for leaf in leaves[:size]]
        root = mth(leaves[:size])
        assert frontier.root() == root_of(hashed) == root
        for index in range(size):
            path = inclusion_path(index, hashed)
            assert verify_inclusion(leaves[index], index, size, path, root)
            assert not verify_inclusion(leaves[index] + b"!", index, size, path, root)
        # Resuming from a stored right edge gives the same tree as hashing all over again.
        resumed = Frontier(frontier.size, list(frontier.hashes))
        assert resumed.root() == root


@pytest.fixture
def world() -> World:
    return World(clock=FrozenClock(START), env={"BACKUP_ADMIN_TOKEN": TOKEN})


@pytest.fixture
def http() -> Iterator[Client]:
    with make_client(FrozenClock(START), BACKUP_ADMIN_TOKEN=TOKEN) as client:
        yield client


def leaves_of(http: Client) -> list[bytes]:
    """The leaves as an auditor rebuilds them from `GET /api/admin/log`: each entry as JSON, keys sorted,
    no spaces, UTF-8 (docs/audit.md)."""
    events = http.get("/api/admin/log?limit=1000", headers=BEARER).json()["data"]["events"]
    return [json.dumps(e, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode() for e in events]


async def test_a_served_checkpoint_signs_the_tree_of_the_entries_the_admin_api_shows(world: World) -> None:
    async with world.async_client() as http:
        org = (await http.post("/api/admin/orgs", json={"name": "acme"}, headers=BEARER)).json()["data"]
        await http.post(f"/api/admin/orgs/{org['id']}/systems", json={"system_key": "fw"}, headers=BEARER)
        first = await world.services.log.checkpointer()
        assert first is not None
        assert await world.services.log.checkpointer() is None  # nothing new: no checkpoint
        await http.post(f"/api/admin/orgs/{org['id']}/systems", json={"system_key": "fw2"}, headers=BEARER)
        second = await world.services.log.checkpointer()
        assert second is not None
        assert second.tree_size == 3
        note = (await http.get("/api/log/checkpoint")).text
        vkey = (await http.get("/api/log/public-key")).text.strip()
        events = (await http.get("/api/admin/log", headers=BEARER)).json()["data"]["events"]
    leaves = [json.dumps(e, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode() for e in events]
    origin, size, root = parse_checkpoint(open_signed_note(note, vkey))
    assert (origin, size, root) == (world.settings.log_origin, 3, mth(leaves))


async def test_the_checkpoint_and_the_key_need_no_credentials_and_are_plain_text(world: World) -> None:
    await world.services.log.checkpointer()
    async with world.async_client() as http:
        for path in ("/api/log/public-key", "/api/log/checkpoint"):
            answer = await http.get(path)
            assert answer.status_code == 200
            assert answer.headers["content-type"] == "text/plain; charset=utf-8"  # one charset, not two
    assert answer.text.startswith(world.settings.log_origin + "\n")
