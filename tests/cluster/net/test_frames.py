"""Packing messages into frames: a batch is the messages in order, one message is its own
encoding, and garbage inside a batch costs only its own item."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cluster.core.codec import ProtocolError, RawJson, encode, to_dict
from cluster.core.messages import ClientGet, ClientPut, PutReply, ReplicaPut
from cluster.net.frames import BATCH_LIMIT_BYTES, batches, pack, unpack

messages = st.one_of(
    st.builds(ClientGet, req=st.integers(0, 10**9), key=st.text(max_size=20)),
    st.builds(
        ClientPut,
        req=st.integers(0, 10**9),
        key=st.text(max_size=20),
        value=st.one_of(st.none(), st.text(max_size=50), st.integers()),
    ),
    st.builds(PutReply, req=st.integers(0, 10**9), ok=st.booleans()),
    st.builds(
        ReplicaPut,
        req=st.integers(0, 10**9),
        src=st.sampled_from(["n1", "n2"]),
        key=st.text(max_size=20),
        state=st.just(RawJson('[{"dot":["n1",1],"past":{},"value":"x"}]')),
        hint_for=st.none(),
    ),
)


@given(st.lists(messages, min_size=1, max_size=6))
def test_a_packed_batch_unpacks_to_the_same_messages_in_order(batch: list[object]) -> None:
    (run,) = batches([encode(m) for m in batch])
    decoded, errors = unpack(pack(run))
    assert errors == []
    # A RawJson field arrives parsed: compare the JSON-able forms, which parse it too.
    assert [to_dict(m) for m in decoded] == [to_dict(m) for m in batch]


def test_a_single_message_travels_as_its_own_encoding() -> None:
    msg = ClientGet(7, "k")
    assert pack([encode(msg)]) == encode(msg)
    assert unpack(encode(msg)) == ([msg], [])


def test_garbage_in_a_batch_is_reported_by_item_and_the_rest_is_kept() -> None:
    good = ClientGet(1, "k")
    frame = b"[" + b'{"t":"nope"},' + encode(good) + b"]"
    decoded, errors = unpack(frame)
    assert decoded == [good]
    assert [str(e) for e in errors] == ["batch item 0: unknown message type 'nope'"]


def test_frames_that_are_not_messages_are_errors_never_exceptions() -> None:
    for frame in (b"[", b"\xff[", b"[]", b"[1]", b"null", b""):
        decoded, errors = unpack(frame)
        assert decoded == [] and len(errors) == 1 and isinstance(errors[0], ProtocolError)


def test_a_batch_never_grows_past_the_limit_and_a_large_message_travels_alone() -> None:
    small = [encode(ClientPut(i, "k", "x" * 1000)) for i in range(3000)]  # ~3 MB in all
    large = encode(ClientPut(9, "k", "y" * (2 * BATCH_LIMIT_BYTES)))
    runs = batches([*small[:10], large, *small[10:]])
    assert [m for run in runs for m in run] == [*small[:10], large, *small[10:]]  # in order
    assert [large] in runs
    assert all(len(pack(run)) <= BATCH_LIMIT_BYTES for run in runs if run != [large])
    messages = [m for run in runs for m in unpack(pack(run))[0]]
    assert [m.req for m in messages] == [*range(10), 9, *range(10, 3000)]
