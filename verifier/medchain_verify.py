#!/usr/bin/env python3
"""Check medchain inclusion proofs and chain exports outside the database.

Written from docs/FORMAT.md alone, with the Python standard library only:
no database connection, no medchain code.

    medchain_verify.py proof PROOF.json
    medchain_verify.py chain EXPORT.jsonl [--digest DIGEST.json]

PROOF.json is the output of medchain.proof(tbl, key).  EXPORT.jsonl holds
the rows of medchain.export_chain(), one JSON object per line, in height
order.  DIGEST.json is the output of medchain.digest(): the chain must hold
that block unchanged.

Exit status: 0 when everything checks out, 1 when something does not (each
problem is printed), 2 for unreadable input.
"""

import hashlib
import json
import struct
import sys

FORMAT_VERSION = 1
HEADER_MAGIC = b"MCB1"


def sha256(data):
    return hashlib.sha256(data).digest()


def text(value):
    """A FORMAT.md `str`: u32 length, then the UTF-8 bytes."""
    raw = value.encode("utf-8")
    return struct.pack(">I", len(raw)) + raw


def entry_encoding(entry):
    """The bytes of an entry (FORMAT.md, "Entry encoding")."""
    out = b"E" + bytes([1])
    out += text(entry["kind"])
    out += struct.pack(">Q", entry["entry_id"])
    out += text(entry["relation"])
    if entry.get("row_key") is None:
        out += b"\x00"
    else:
        out += b"\x01" + text(entry["row_key"])
    out += bytes.fromhex(entry["row_hash"])
    out += text(entry["recorded_by"])
    out += struct.pack(">q", entry["recorded_at"])
    out += struct.pack(">Q", entry["xact"])
    return out


def leaf_hash(entry_hash):
    return sha256(b"\x00" + entry_hash)


def node_hash(left, right):
    return sha256(b"\x01" + left + right)


def merkle_root(leaves):
    """RFC 6962 tree hash of a list of leaf hashes (not entry hashes)."""
    if len(leaves) == 1:
        return leaves[0]
    split = 1
    while split * 2 < len(leaves):
        split *= 2
    return node_hash(merkle_root(leaves[:split]), merkle_root(leaves[split:]))


def root_from_audit_path(leaf, index, size, path):
    """RFC 9162, 2.1.3.2: the root implied by a leaf and its audit path."""
    if index >= size:
        return None
    fn, sn, r = index, size - 1, leaf
    for sibling in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(sibling, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, sibling)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def header_encoding(block):
    """The 136 header bytes (FORMAT.md, "Block header")."""
    return (HEADER_MAGIC
            + struct.pack(">I", block["format_version"])
            + struct.pack(">Q", block["height"])
            + bytes.fromhex(block["prev_hash"])
            + bytes.fromhex(block["merkle_root"])
            + struct.pack(">q", block["sealed_at"])
            + struct.pack(">I", block["entry_count"])
            + struct.pack(">I", block["difficulty"])
            + bytes.fromhex(block["node_id"])
            + struct.pack(">Q", block["nonce"]))


def leading_zero_bits(digest):
    bits = 0
    for byte in digest:
        if byte == 0:
            bits += 8
            continue
        return bits + 8 - byte.bit_length()
    return bits


def header_problems(block):
    problems = []
    if block["format_version"] != FORMAT_VERSION:
        problems.append("format_version %s is not %d" % (block["format_version"], FORMAT_VERSION))
    if "node_name" in block and sha256(block["node_name"].encode("utf-8")).hex() != block["node_id"]:
        problems.append("node_id is not the SHA-256 of node_name")
    digest = sha256(header_encoding(block))
    if digest.hex() != block["block_hash"]:
        problems.append("header hashes to %s, not to its block_hash" % digest.hex())
    elif leading_zero_bits(digest) < block["difficulty"]:
        problems.append("block_hash has %d leading zero bits, fewer than difficulty %d"
                        % (leading_zero_bits(digest), block["difficulty"]))
    return problems


def check_proof(proof):
    """Problems with an inclusion proof; empty when it holds."""
    if proof.get("format_version") != FORMAT_VERSION:
        return ["unknown proof format_version %r" % proof.get("format_version")]
    problems = []
    entry, block = proof["entry"], proof["block"]
    if sha256(bytes.fromhex(proof["row"])).hex() != entry["row_hash"]:
        problems.append("the row does not hash to the entry's row_hash")
    entry_hash = sha256(entry_encoding(entry))
    if entry_hash.hex() != proof["entry_hash"]:
        problems.append("the entry does not hash to entry_hash")
    root = root_from_audit_path(leaf_hash(bytes.fromhex(proof["entry_hash"])),
                                proof["leaf_index"], block["entry_count"],
                                [bytes.fromhex(h) for h in proof["audit_path"]])
    if root is None or root.hex() != block["merkle_root"]:
        problems.append("the audit path does not lead to the block's merkle_root")
    problems.extend("block %d: %s" % (block["height"], p) for p in header_problems(block))
    return problems


def check_chain(blocks, digest=None):
    """Problems with an exported chain; empty when it holds."""
    problems = []
    previous = None
    for block in blocks:
        h = block["height"]
        for p in header_problems(block):
            problems.append("block %d: %s" % (h, p))
        hashes = [bytes.fromhex(x) for x in block["entry_hashes"]]
        if len(hashes) != block["entry_count"]:
            problems.append("block %d: %d entry hashes, entry_count says %d"
                            % (h, len(hashes), block["entry_count"]))
        elif merkle_root([leaf_hash(x) for x in hashes]).hex() != block["merkle_root"]:
            problems.append("block %d: entry hashes do not give its merkle_root" % h)
        if previous is None:
            if h == 0 and block["prev_hash"] != "00" * 32:
                problems.append("block 0: prev_hash of the genesis block is not zero")
        else:
            if h != previous["height"] + 1:
                problems.append("block %d follows block %d" % (h, previous["height"]))
            if block["prev_hash"] != previous["block_hash"]:
                problems.append("block %d: prev_hash is not the block_hash of block %d"
                                % (h, previous["height"]))
            if block["difficulty"] < previous["difficulty"]:
                problems.append("block %d: difficulty %d is below block %d's %d"
                                % (h, block["difficulty"], previous["height"],
                                   previous["difficulty"]))
        previous = block
    if digest is not None:
        match = [b for b in blocks if b["height"] == digest["height"]]
        if not match:
            problems.append("the digest's block %d is not in the export" % digest["height"])
        elif match[0]["block_hash"] != digest["block_hash"]:
            problems.append("block %d has hash %s, the digest says %s"
                            % (digest["height"], match[0]["block_hash"], digest["block_hash"]))
    return problems


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def load_json_lines(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main(argv):
    if len(argv) >= 2 and argv[0] == "proof" and len(argv) == 2:
        try:
            problems = check_proof(load_json(argv[1]))
        except (OSError, ValueError, KeyError, TypeError) as e:
            print("unreadable proof: %s" % e, file=sys.stderr)
            return 2
        what = "proof"
    elif len(argv) in (2, 4) and argv[0] == "chain" and (len(argv) == 2 or argv[2] == "--digest"):
        try:
            blocks = load_json_lines(argv[1])
            digest = load_json(argv[3]) if len(argv) == 4 else None
            problems = check_chain(blocks, digest)
        except (OSError, ValueError, KeyError, TypeError) as e:
            print("unreadable chain export: %s" % e, file=sys.stderr)
            return 2
        what = "chain of %d blocks" % len(blocks)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    for p in problems:
        print("INVALID: %s" % p)
    if problems:
        return 1
    print("valid %s" % what)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
