#!/usr/bin/env python3
"""Check medchain inclusion proofs and chain exports outside the database.

Written from docs/FORMAT.md alone (formats version 1, 2 and 3): no database
connection, no medchain code.  Hashes are the Python standard library's.
The Ed25519 signatures of format 3 blocks are checked with the
python3-cryptography package when it can be imported, else with the
`openssl` command (OpenSSL 3, `pkeyutl -verify -rawin`); set
MEDCHAIN_VERIFY_ED25519=openssl to use the command even where the package
is installed.  Neither at hand, a signed block cannot be checked (exit 2).

    medchain_verify.py proof PROOF.json [--document FILE] [--digest DIGEST.json [COSIGNERS]]
    medchain_verify.py chain EXPORT.jsonl [--digest DIGEST.json [COSIGNERS]]

    COSIGNERS: --min-cosigners K and --cosigner-key HEX, once per key

PROOF.json is the output of medchain.proof() or medchain.event_proof(), or
the proof column of medchain.attest(): the proof of a notarization, which
carries the SHA-256 of the notarized document.  With --document, FILE must
be that document: its SHA-256 is computed here, read a megabyte at a time.
EXPORT.jsonl holds the rows of medchain.export_chain(), one JSON object per
line, in height order.  DIGEST.json is the output of medchain.digest(),
kept somewhere the database's owner cannot rewrite: it is what ties a proof
or an export to the real chain.  A proof checked without a digest only
shows that its row is in *some* well-formed block, which anyone can make,
so it is reported as unanchored.  A digest of a signed block carries the
block's chain id, signer key and signature, and is checked on its own too.

A digest may carry cosignatures: receipts that peers signed for its block
after checking it and keeping a copy.  Each must verify.  With
--min-cosigners K the digest must be cosigned by at least K distinct keys
among those given with --cosigner-key: the keys of the other hospitals, as
the auditor knows them, never as the digest's own node lists them.

A signature shows which key signed a block.  Whether that key was the
chain's own (announced by a node_key event, not retired) is in the journal,
which an export does not carry: medchain.verify() checks it, and the
event_proof() of a node_key event shows an announcement outside.

Exit status: 0 when everything checks out, 1 when something does not (each
problem is printed as "INVALID: ..."), 2 for unreadable input.
"""

import hashlib
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
except ImportError:
    Ed25519PublicKey = None

ZERO_HASH = "00" * 32
DIGEST_MEMBERS = {"format_version", "node", "height", "block_hash", "sealed_at", "min_difficulty",
                  "chain_id", "signer_key", "signature", "cosignatures"}
SIGNED = 3                  # the first signed block format
SIGNATURE_DOMAIN = b"MEDCHAIN-BLOCK-SIGNATURE-V1\x00"
RECEIPT_DOMAIN = b"MEDCHAIN-BLOCK-RECEIPT-V1\x00"
# DER SubjectPublicKeyInfo of an Ed25519 key (RFC 8410), before its 32 bytes.
ED25519_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")


class Unreadable(Exception):
    """The input is not a document this verifier can read (exit 2)."""


class NoEd25519(Exception):
    """Neither python3-cryptography nor the openssl command is at hand (exit 2)."""


def sha256(data):
    return hashlib.sha256(data).digest()


def file_sha256(path):
    """The SHA-256 of a file of any size, read a megabyte at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.digest()


# --- Reading members.  A missing or mistyped member makes the document
# unreadable rather than invalid: nothing about the ledger can be concluded.

def member(obj, key, kind):
    if not isinstance(obj, dict) or key not in obj:
        raise Unreadable("missing member %r" % key)
    value = obj[key]
    # bool is a subclass of int in Python; a JSON true is not a number.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise Unreadable("member %r is not a %s" % (key, kind.__name__))
    return value


def hex_value(value, what, size=None):
    """Lower-case hex, as FORMAT.md prints every hash and byte string:
    checked strictly, so that two spellings of one hash never compare
    unequal and bytes.fromhex never skips a space."""
    if not isinstance(value, str) or not re.fullmatch(r"(?:[0-9a-f]{2})*", value) \
            or (size is not None and len(value) != 2 * size):
        raise Unreadable("%s is not %s lower-case hex" % (what, "%d bytes of" % size if size else "in"))
    return value


def hex_member(obj, key, size=None):
    return hex_value(member(obj, key, str), "member %r" % key, size)


def hash_member(obj, key):
    return hex_member(obj, key, 32)


# --- Byte encodings (FORMAT.md, "Conventions", "Entry encoding",
# "Merkle tree", "Block header").  An integer out of its field's range
# raises struct.error, which main() reports as unreadable input.

def u32(n):
    return struct.pack(">I", n)


def u64(n):
    return struct.pack(">Q", n)


def i64(n):
    return struct.pack(">q", n)


def text(value):
    """A `str`: u32 length, then the UTF-8 bytes."""
    raw = value.encode("utf-8")
    return u32(len(raw)) + raw


def entry_encoding(entry, version):
    """The bytes an entry_hash covers, in the entry's version."""
    out = b"E" + bytes([version]) + text(member(entry, "kind", str))
    out += u64(member(entry, "entry_id", int))
    if version == 1:
        # The quoted, qualified name, exactly as medchain 1.0 stored it.
        out += text(member(entry, "relation", str))
    else:
        # Two unquoted names: no verifier needs PostgreSQL's quoting rules.
        out += text(member(entry, "schema", str)) + text(member(entry, "table", str))
        out += u64(member(entry, "enablement_id", int))
    if member(entry, "row_key", object) is None:   # present, null for events
        out += b"\x00"                      # ostr absent
    else:
        out += b"\x01" + text(member(entry, "row_key", str))
    out += bytes.fromhex(hash_member(entry, "row_hash"))
    out += text(member(entry, "recorded_by", str))
    out += i64(member(entry, "recorded_at", int))
    out += u64(member(entry, "xact", int))
    if version >= 3:
        # What the entry supersedes (0: nothing), then an optional note.
        out += u64(member(entry, "supersedes", int))
        if member(entry, "note", object) is None:
            out += b"\x00"
        else:
            out += b"\x01" + text(member(entry, "note", str))
    return out


def leaf_hash(entry_hash):
    return sha256(b"\x00" + entry_hash)


def node_hash(left, right):
    return sha256(b"\x01" + left + right)


def merkle_root(leaves):
    """RFC 6962 tree hash of a non-empty list of leaf hashes."""
    if len(leaves) == 1:
        return leaves[0]
    split = 1
    while split * 2 < len(leaves):      # the largest power of two below n
        split *= 2
    return node_hash(merkle_root(leaves[:split]), merkle_root(leaves[split:]))


def root_from_audit_path(leaf, index, size, path):
    """RFC 9162, 2.1.3.2: the root implied by a leaf and its audit path,
    or None when the path cannot belong to a tree of that size."""
    if index >= size:
        return None
    fn, sn, r = index, size - 1, leaf
    for sibling in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(sibling, r)
            while fn and not fn & 1:    # skip the levels where we have no sibling
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, sibling)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def header_encoding(block):
    """The 136 (MCB1), 140 (MCB2) or 172 (MCB3) header bytes that
    block_hash covers."""
    version = member(block, "format_version", int)
    out = (b"MCB%d" % version + u32(version) + u64(member(block, "height", int))
           + bytes.fromhex(hash_member(block, "prev_hash"))
           + bytes.fromhex(hash_member(block, "merkle_root"))
           + i64(member(block, "sealed_at", int))
           + u32(member(block, "entry_count", int))
           + u32(member(block, "difficulty", int)))
    if version >= 2:
        out += u32(member(block, "min_difficulty", int))
    if version >= SIGNED:
        out += bytes.fromhex(hash_member(block, "chain_id"))
    return out + bytes.fromhex(hash_member(block, "node_id")) + u64(member(block, "nonce", int))


# --- Signatures (FORMAT.md, "Block signatures").

def chain_id_of(block):
    """The id of the chain a block is on: a genesis block's own hash, else
    the chain_id its format 3 header carries."""
    return block["block_hash"] if block["height"] == 0 else block["chain_id"]


def signed_message(chain_id, height, block_hash, domain=SIGNATURE_DOMAIN):
    """What a block's signature (or, under RECEIPT_DOMAIN, a peer's receipt
    for the block) covers."""
    return domain + bytes.fromhex(chain_id) + u64(height) + bytes.fromhex(block_hash)


def openssl_verify(public_key, signature, message):
    """`openssl pkeyutl -verify -rawin` (OpenSSL 3) on temporary files: it
    cannot take a raw key or read an EdDSA message from a pipe."""
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for name, data in (("key.der", ED25519_SPKI_PREFIX + public_key),
                           ("sig", signature), ("msg", message)):
            files[name] = os.path.join(tmp, name)
            with open(files[name], "wb") as f:
                f.write(data)
        try:
            done = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-keyform", "DER",
                                   "-inkey", files["key.der"], "-rawin", "-in", files["msg"],
                                   "-sigfile", files["sig"]],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except OSError as e:
            raise NoEd25519("no python3-cryptography and no openssl command (%s)" % e)
    out = done.stdout + done.stderr
    if b"Signature Verified Successfully" in out:
        return True
    if b"Signature Verification Failure" in out:
        return False
    raise NoEd25519("openssl could not check an Ed25519 signature: %s"
                    % out.decode("utf-8", "replace").strip())


def ed25519_valid(public_key, signature, message):
    """Does an Ed25519 signature verify?  A library's or OpenSSL's
    implementation, never one of this file's own."""
    if Ed25519PublicKey is not None and os.environ.get("MEDCHAIN_VERIFY_ED25519") != "openssl":
        try:
            Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
            return True
        except (InvalidSignature, ValueError):
            return False
    return openssl_verify(public_key, signature, message)


def signature_problems(b):
    """A format 3 block's signer key is the key its node_id names, and its
    signature verifies over its chain id, height and hash."""
    key, signature = hex_member(b, "signer_key"), hex_member(b, "signature")
    if len(key) != 64:
        return ["signer_key has %d bytes, not 32" % (len(key) // 2)]
    if len(signature) != 128:
        return ["signature has %d bytes, not 64" % (len(signature) // 2)]
    if sha256(bytes.fromhex(key)).hex() != hash_member(b, "node_id"):
        return ["signer_key is not the key its node_id names"]
    message = signed_message(chain_id_of(b), b["height"], b["block_hash"])
    if not ed25519_valid(bytes.fromhex(key), bytes.fromhex(signature), message):
        return ["the signature does not verify under its signer_key"]
    return []


def leading_zero_bits(digest):
    bits = 0
    for byte in digest:
        if byte:
            return bits + 8 - byte.bit_length()
        bits += 8
    return bits


# --- Chain rules (FORMAT.md, "Chain rules").

def chain_floor(blocks, digest):
    """The chain's difficulty floor as far as these blocks and the digest
    tell it, and who tells it: a trusted digest's min_difficulty first (a
    forger controls the blocks, not the digest), else what the blocks say of
    themselves: a version 2 block's min_difficulty, else a version 1
    genesis's difficulty.  None when nothing tells it (version 1 blocks
    above genesis only)."""
    if digest is not None and "min_difficulty" in digest:
        return digest["min_difficulty"], "the digest's min_difficulty"
    for b in blocks:
        if b["format_version"] >= 2:
            return b["min_difficulty"], "block %d's min_difficulty" % b["height"]
    if blocks and blocks[0]["height"] == 0:
        return blocks[0]["difficulty"], "the genesis difficulty"
    return None, None


def block_problems(b, floor, source="the floor"):
    """A block alone: its version, its hash and proof-of-work, the floor."""
    version, difficulty = member(b, "format_version", int), member(b, "difficulty", int)
    if version not in (1, 2, 3):
        return ["format_version %d is not 1, 2 or 3" % version]
    problems = []
    if difficulty > 64:
        problems.append("difficulty %d is above 64" % difficulty)
    if version < SIGNED and sha256(member(b, "node_name", str).encode("utf-8")).hex() \
            != hash_member(b, "node_id"):
        problems.append("node_id is not the SHA-256 of node_name")
    digest = sha256(header_encoding(b))
    if digest.hex() != hash_member(b, "block_hash"):
        problems.append("header hashes to %s, not to its block_hash" % digest.hex())
    elif leading_zero_bits(digest) < difficulty:
        problems.append("block_hash has %d leading zero bits, fewer than difficulty %d"
                        % (leading_zero_bits(digest), difficulty))
    if member(b, "entry_count", int) < 1:
        problems.append("entry_count is 0: a block always has an entry")
    if floor is not None:
        if difficulty < floor:
            problems.append("difficulty %d is below the chain's floor %d (%s)"
                            % (difficulty, floor, source))
        elif b["height"] == 0 and difficulty != floor:
            # The genesis block's difficulty is what fixed the floor.
            problems.append("genesis difficulty %d is not the chain's floor %d (%s)"
                            % (difficulty, floor, source))
        if version >= 2 and b["min_difficulty"] != floor:
            problems.append("min_difficulty %d is not the chain's floor %d (%s)"
                            % (b["min_difficulty"], floor, source))
    if b["height"] == 0 and b["prev_hash"] != ZERO_HASH:
        problems.append("the genesis block's prev_hash is not zero")
    if version >= SIGNED:
        if b["height"] == 0 and b["chain_id"] != ZERO_HASH:
            problems.append("the genesis block's chain_id is not zero")
        if not problems:    # the signature of an altered header is beside the point
            problems += signature_problems(b)
    return problems


def link_problems(below, b):
    """Two consecutive blocks: a forged suffix may not be cheaper or older."""
    problems = []
    if b["height"] != below["height"] + 1:
        problems.append("follows block %d" % below["height"])
    if b["prev_hash"] != below["block_hash"]:
        problems.append("prev_hash is not the block_hash of block %d" % below["height"])
    if b["difficulty"] < below["difficulty"]:
        problems.append("difficulty %d is below block %d's %d"
                        % (b["difficulty"], below["height"], below["difficulty"]))
    if b["format_version"] < below["format_version"]:
        if below["format_version"] >= SIGNED:
            problems.append("an unsigned format %d block above the signed block %d"
                            % (b["format_version"], below["height"]))
        else:
            problems.append("format_version %d is older than block %d's %d"
                            % (b["format_version"], below["height"], below["format_version"]))
    elif b["format_version"] >= 2 and below["format_version"] >= 2 \
            and b["min_difficulty"] != below["min_difficulty"]:
        problems.append("min_difficulty %d is not block %d's %d"
                        % (b["min_difficulty"], below["height"], below["min_difficulty"]))
    if b["format_version"] >= SIGNED and (below["format_version"] >= SIGNED or below["height"] == 0) \
            and b["chain_id"] != chain_id_of(below):
        problems.append("chain_id is not block %d's chain id %s" % (below["height"], chain_id_of(below)))
    return problems


def chain_id_problems(blocks, digest):
    """Every format 3 block above genesis carries the chain's id: the
    genesis block's hash when the blocks hold it, else a trusted digest's
    chain_id (a forger controls the blocks, not the digest)."""
    chain_id = blocks[0]["block_hash"] if blocks and blocks[0]["height"] == 0 else \
        (digest or {}).get("chain_id")
    if chain_id is None:
        return []
    return ["block %d: chain_id %s is not the chain's id %s" % (b["height"], b["chain_id"], chain_id)
            for b in blocks
            if b["format_version"] >= SIGNED and b["height"] > 0 and b["chain_id"] != chain_id]


def blocks_problems(blocks, digest):
    """Every block by the block rules at the floor, every pair in a row by
    the rules for consecutive blocks."""
    for b in blocks:        # read everything first: a bad member is exit 2
        header_encoding(b)
        member(b, "node_name", str)
        hash_member(b, "block_hash")
        if b["format_version"] >= SIGNED:
            hex_member(b, "signer_key")
            hex_member(b, "signature")
    floor, source = chain_floor(blocks, digest)
    problems = []
    for i, b in enumerate(blocks):
        found = block_problems(b, floor, source)
        if i > 0:
            found += link_problems(blocks[i - 1], b)
        problems += ["block %d: %s" % (b["height"], p) for p in found]
    return problems + chain_id_problems(blocks, digest)


# --- Digests (FORMAT.md, "Digest").

def parse_sealed_at(value):
    """Microseconds since the Unix epoch of a digest's sealed_at: version 2
    prints `2026-12-01T23:12:23.095240Z`; medchain 1.0 printed the session's
    ISO DateStyle, `2026-11-27 02:49:08.604279+00`, with any zone offset and
    the fraction cut short or left out."""
    m = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?"
                     r"(?:(Z)|([+-])(\d\d)(?::?(\d\d))?(?::?(\d\d))?)", value)
    if not m:
        raise Unreadable("digest sealed_at %r is in no form medchain writes" % value)
    y, mo, d, hh, mi, ss = (int(g) for g in m.groups()[:6])
    micro = int((m.group(7) or "").ljust(6, "0"))
    offset = 0
    if m.group(9):
        offset = int(m.group(10)) * 3600 + int(m.group(11) or 0) * 60 + int(m.group(12) or 0)
        offset = -offset if m.group(9) == "-" else offset
    try:
        t = datetime(y, mo, d, hh, mi, ss, micro, tzinfo=timezone(timedelta(seconds=offset)))
    except ValueError as e:
        raise Unreadable("digest sealed_at %r: %s" % (value, e))
    delta = t - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (delta.days * 86400 + delta.seconds) * 1000000 + delta.microseconds


def iso_utc(usecs):
    """Microseconds since the Unix epoch as a digest prints sealed_at."""
    t = datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=usecs)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def read_digest(digest):
    """Check the digest's shape: only height and block_hash are required,
    and a member medchain does not write is an error, not ignored (it might
    be a constraint this verifier would silently fail to check)."""
    if not isinstance(digest, dict):
        raise Unreadable("the digest is not a JSON object")
    unknown = set(digest) - DIGEST_MEMBERS
    if unknown:
        raise Unreadable("the digest has members medchain does not write: %s"
                         % ", ".join(sorted(unknown)))
    member(digest, "height", int)
    hash_member(digest, "block_hash")
    for key, kind in (("format_version", int), ("node", str), ("min_difficulty", int)):
        if key in digest:
            member(digest, key, kind)
    if "sealed_at" in digest:
        parse_sealed_at(member(digest, "sealed_at", str))
    if "chain_id" in digest:
        hash_member(digest, "chain_id")
    for key in ("signer_key", "signature"):
        if key in digest:
            hex_member(digest, key)
    for c in member(digest, "cosignatures", list) if "cosignatures" in digest else []:
        if not isinstance(c, dict) or set(c) != {"key", "signature"}:
            raise Unreadable("each of the digest's cosignatures is an object with a key and a signature")
        hex_member(c, "key", 32)
        hex_member(c, "signature", 64)
    return digest


def digest_problems(digest):
    """A digest of a signed block is signed itself: its signature verifies
    under its signer key over its chain id, height and block hash."""
    if not {"chain_id", "signer_key", "signature"} <= set(digest):
        return []
    key, signature = bytes.fromhex(digest["signer_key"]), bytes.fromhex(digest["signature"])
    if len(key) != 32 or len(signature) != 64 or not ed25519_valid(
            key, signature, signed_message(digest["chain_id"], digest["height"], digest["block_hash"])):
        return ["the digest's signature does not verify under its signer_key"]
    return []


def cosignature_problems(blocks, digest, cosigners):
    """Each cosignature verifies as a receipt for the digest's block, on
    the chain of the block the export or proof holds at its height; with
    cosigners (known keys, K), at least K distinct known keys cosigned."""
    cosignatures = digest.get("cosignatures", [])
    match = [b for b in blocks if b["height"] == digest["height"]]
    if not cosignatures and cosigners is None:
        return []
    if not match:
        return ["the digest's cosignatures cannot be checked without its block"]
    message = signed_message(chain_id_of(match[0]), digest["height"], digest["block_hash"], RECEIPT_DOMAIN)
    problems, valid_keys = [], set()
    for c in cosignatures:
        if ed25519_valid(bytes.fromhex(c["key"]), bytes.fromhex(c["signature"]), message):
            valid_keys.add(c["key"])
        else:
            problems.append("the digest's cosignature by key %s does not verify" % c["key"])
    if cosigners is not None:
        known, needed = cosigners
        count = len(valid_keys & known)
        if count < needed:
            problems.append("the digest is cosigned by %d of the known keys, fewer than %d"
                            % (count, needed))
    return problems


def anchor_problems(blocks, digest):
    """Step 6: one of the blocks is the digest's block, matching every member
    it gives.  (min_difficulty was checked as the floor of every block.)"""
    match = [b for b in blocks if b["height"] == digest["height"]]
    if not match:
        given = ("blocks %d to %d" % (blocks[0]["height"], blocks[-1]["height"])
                 if blocks else "no blocks")
        return ["not anchored: no block at the digest's height %d (%s given)"
                % (digest["height"], given)]
    b, problems = match[0], []
    if b["block_hash"] != digest["block_hash"]:
        problems.append("not anchored: block %d has hash %s, the digest says %s"
                        % (b["height"], b["block_hash"], digest["block_hash"]))
    if "node" in digest and b["node_name"] != digest["node"]:
        problems.append("not anchored: block %d was sealed by %r, the digest says %r"
                        % (b["height"], b["node_name"], digest["node"]))
    if "format_version" in digest and b["format_version"] != digest["format_version"]:
        problems.append("not anchored: block %d has format_version %d, the digest says %d"
                        % (b["height"], b["format_version"], digest["format_version"]))
    if "sealed_at" in digest and b["sealed_at"] != parse_sealed_at(digest["sealed_at"]):
        problems.append("not anchored: block %d was sealed at %d, the digest says %s"
                        % (b["height"], b["sealed_at"], digest["sealed_at"]))
    if "chain_id" in digest and (b["format_version"] < SIGNED or chain_id_of(b) != digest["chain_id"]):
        problems.append("not anchored: block %d is not on the chain %s the digest names"
                        % (b["height"], digest["chain_id"]))
    for key in ("signer_key", "signature"):
        if key in digest and b.get(key) != digest[key]:
            problems.append("not anchored: block %d has another %s than the digest"
                            % (b["height"], key))
    return problems + digest_problems(digest)


# --- Proofs (FORMAT.md, "Inclusion proof") and exports ("Chain export").

def check_proof(proof, digest=None, cosigners=None, document_hash=None):
    """Problems with an inclusion proof (steps 1-5, and 6 with a digest);
    document_hash, the SHA-256 of a file, must be what a notarization
    proof's document_sha256 says."""
    version = member(proof, "format_version", int)
    entry = member(proof, "entry", dict)
    if version == 1:
        # medchain 1.0: a row proof of a version 1 entry, no chain above.
        if "format_version" in entry or "detail" in proof or "chain" in proof:
            raise Unreadable("a version 1 proof has no entry format_version, detail or chain")
        entry_version, chain = 1, []
    elif version == 2:
        entry_version, chain = member(entry, "format_version", int), member(proof, "chain", list)
        if entry_version not in (1, 2, 3):
            raise Unreadable("unknown entry format_version %d" % entry_version)
    else:
        raise Unreadable("unknown proof format_version %d" % version)
    # What the entry's row_hash covers: a row, an event's detail, or the
    # hash of a notarized document; exactly one of them.
    notarization = member(entry, "kind", str) == "notarize"
    covered = [m for m in ("row", "detail", "document_sha256") if m in proof]
    if len(covered) != 1:
        raise Unreadable("a proof has one of a row, a detail and a document_sha256")
    if (covered[0] == "document_sha256") != notarization:
        raise Unreadable("a proof of a notarize entry, and no other, has a document_sha256")
    if document_hash is not None and not notarization:
        raise Unreadable("a document is checked against the proof of a notarization only")
    block = member(proof, "block", dict)
    blocks = [block] + chain
    problems = []

    # 1. The row (the event's detail, the notarized document's hash) is
    # what the entry's row_hash covers.
    if notarization:
        if hash_member(proof, "document_sha256") != hash_member(entry, "row_hash"):
            problems.append("the document_sha256 is not the entry's row_hash")
        if document_hash is not None and document_hash.hex() != proof["document_sha256"]:
            problems.append("the document does not hash to the proof's document_sha256: "
                            "it is not the document notarized")
    elif "row" in proof:
        row = bytes.fromhex(hex_member(proof, "row"))
        # Version 3 changed entries only: its rows are version 2 encodings.
        row_version = min(entry_version, 2)
        if row[:2] != b"R" + bytes([row_version]):
            problems.append("the row is not a version %d row encoding" % row_version)
        if sha256(row).hex() != hash_member(entry, "row_hash"):
            problems.append("the row does not hash to the entry's row_hash")
    elif sha256(member(proof, "detail", str).encode("utf-8")).hex() != hash_member(entry, "row_hash"):
        problems.append("the event's detail does not hash to the entry's row_hash")
    # 2. The entry is what entry_hash covers.
    if sha256(entry_encoding(entry, entry_version)).hex() != hash_member(proof, "entry_hash"):
        problems.append("the entry does not hash to entry_hash")
    # 3. entry_hash is a leaf of the block's Merkle tree.
    path = member(proof, "audit_path", list)
    root = root_from_audit_path(leaf_hash(bytes.fromhex(proof["entry_hash"])),
                                member(proof, "leaf_index", int),
                                member(block, "entry_count", int),
                                [bytes.fromhex(hex_value(p, "an audit path hash", 32)) for p in path])
    if root is None or root.hex() != hash_member(block, "merkle_root"):
        problems.append("the audit path does not lead to the block's merkle_root")
    # 4, 5. The block and the headers above it obey the chain rules.
    problems += blocks_problems(blocks, digest)
    # 6. One of them is the trusted digest's block.
    if digest is not None:
        problems += anchor_problems(blocks, digest)
        problems += cosignature_problems(blocks, digest, cosigners)
    return problems


def check_chain(blocks, digest=None, cosigners=None):
    """Problems with an exported chain; empty when it holds."""
    problems = blocks_problems(blocks, digest)
    for b in blocks:
        hashes = [bytes.fromhex(hex_value(h, "an entry hash", 32))
                  for h in member(b, "entry_hashes", list)]
        if len(hashes) != b["entry_count"]:
            problems.append("block %d: %d entry hashes, entry_count says %d"
                            % (b["height"], len(hashes), b["entry_count"]))
        elif hashes and merkle_root([leaf_hash(x) for x in hashes]).hex() != b["merkle_root"]:
            problems.append("block %d: entry hashes do not give its merkle_root" % b["height"])
    if digest is not None:
        problems += anchor_problems(blocks, digest)
        problems += cosignature_problems(blocks, digest, cosigners)
    return problems


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def load_json_lines(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def parse_arguments(argv):
    """(command, path, digest path or None, cosigners or None, document path
    or None); None when the arguments are not what the usage says."""
    if len(argv) < 2 or argv[0] not in ("proof", "chain"):
        return None
    digest_path, document_path, keys, needed, rest = None, None, set(), None, argv[2:]
    while rest:
        if len(rest) < 2:
            return None
        flag, value, rest = rest[0], rest[1], rest[2:]
        if flag == "--digest":
            digest_path = value
        elif flag == "--document" and argv[0] == "proof":
            document_path = value
        elif flag == "--cosigner-key" and re.fullmatch(r"[0-9a-f]{64}", value):
            keys.add(value)
        elif flag == "--min-cosigners" and re.fullmatch(r"[0-9]+", value):
            needed = int(value)
        else:
            return None
    if (keys or needed is not None) and (digest_path is None or needed is None):
        return None
    return (argv[0], argv[1], digest_path, (keys, needed) if needed is not None else None,
            document_path)


def main(argv):
    arguments = parse_arguments(argv)
    if arguments is None:
        print(__doc__, file=sys.stderr)
        return 2
    command, path, digest_path, cosigners, document_path = arguments
    try:
        digest = read_digest(load_json(digest_path)) if digest_path else None
        if command == "proof":
            proof = load_json(path)
            document_hash = file_sha256(document_path) if document_path else None
            problems = check_proof(proof, digest, cosigners, document_hash)
        else:
            blocks = load_json_lines(path)
            problems = check_chain(blocks, digest, cosigners)
    except (OSError, ValueError, Unreadable, struct.error) as e:
        print("unreadable input: %s" % e, file=sys.stderr)
        return 2
    except NoEd25519 as e:
        print("cannot check signatures: %s" % e, file=sys.stderr)
        return 2
    for p in problems:
        print("INVALID: %s" % p)
    if problems:
        return 1
    cosigned = "" if cosigners is None else ", cosigned by %d of the %d known keys" % (
        len({c["key"] for c in digest.get("cosignatures", [])} & cosigners[0]), len(cosigners[0]))
    if command == "chain":
        print("valid chain of %d blocks%s%s" % (len(blocks), "" if digest is None else
              ", holding the digest's block %d" % digest["height"], cosigned))
    else:
        what = "entry %d in block %d" % (proof["entry"]["entry_id"], proof["block"]["height"])
        if digest is None:
            # Steps 1-5 hold for a block anyone can make from nothing.
            print("valid but unanchored: %s, a block no trusted digest ties to the "
                  "real chain (give --digest)" % what)
        else:
            print("valid proof: %s, anchored in the digest's block %d%s"
                  % (what, digest["height"], cosigned))
        if "document_sha256" in proof:
            note = proof["entry"]["note"]
            print("notarized: document %s%s, %s, recorded by %s, in a block sealed at %s"
                  % (proof["document_sha256"], "" if document_path is None else
                     " (%s)" % document_path,
                     "no label" if note is None else "label " + json.dumps(note, ensure_ascii=False),
                     proof["entry"]["recorded_by"], iso_utc(proof["block"]["sealed_at"])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
