"""Reads a TensorBoard event file without TensorBoard: checks the TFRecord framing (lengths and
masked CRC-32C of every record), decodes the Event and Summary protobufs, and compares the
scalars with the run's JSONL metrics. Usage: tensorboard_check.py EVENTS METRICS.jsonl"""
import json
import struct
import sys


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def masked(data):
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def records(blob):
    at = 0
    while at < len(blob):
        header = blob[at:at + 8]
        (length,) = struct.unpack("<Q", header)
        (length_crc,) = struct.unpack("<I", blob[at + 8:at + 12])
        assert length_crc == masked(header), f"record at byte {at}: length CRC mismatch"
        data = blob[at + 12:at + 12 + length]
        (data_crc,) = struct.unpack("<I", blob[at + 12 + length:at + 16 + length])
        assert len(data) == length and data_crc == masked(data), f"record at byte {at}: data CRC mismatch"
        yield data
        at += 16 + length


def fields(msg):
    """(field number, wire type, value) of a protobuf message."""
    at = 0

    def varint():
        nonlocal at
        shift = value = 0
        while True:
            b = msg[at]
            at += 1
            value |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                return value

    while at < len(msg):
        key = varint()
        number, wire = key >> 3, key & 7
        if wire == 0:
            yield number, wire, varint()
        elif wire == 1:
            yield number, wire, msg[at:at + 8]
            at += 8
        elif wire == 5:
            yield number, wire, msg[at:at + 4]
            at += 4
        elif wire == 2:
            n = varint()
            yield number, wire, msg[at:at + n]
            at += n
        else:
            raise AssertionError(f"unexpected wire type {wire}")


def events(path):
    out = []
    for data in records(open(path, "rb").read()):
        event = {"values": {}}
        for number, _, value in fields(data):
            if number == 1:
                event["wall_time"] = struct.unpack("<d", value)[0]
            elif number == 2:
                event["step"] = value
            elif number == 3:
                event["file_version"] = value.decode()
            elif number == 5:
                for _, _, v in fields(value):  # Summary.value
                    parts = {n: x for n, _, x in fields(v)}
                    event["values"][parts[1].decode()] = struct.unpack("<f", parts[2])[0]
        out.append(event)
    return out


def main():
    assert crc32c(b"123456789") == 0xE3069283, "the reference CRC-32C is wrong"  # the standard check value
    evs = events(sys.argv[1])
    metrics = [json.loads(line) for line in open(sys.argv[2]) if line.strip()]
    assert evs[0].get("file_version") == "brain.Event:2", evs[0]
    assert all(e["wall_time"] > 1.6e9 for e in evs), "wall_time is not a Unix time"
    scalars = {}
    for e in evs[1:]:
        assert len(e["values"]) == 1, e
        for tag, value in e["values"].items():
            scalars[(tag, e["step"])] = value
    names = {"loss": "train_loss", "accuracy": "train_accuracy", "val_loss": "val_loss", "val_accuracy": "val_accuracy",
             "samples_per_s": "samples_per_s", "learning_rate": "lr"}
    checked = 0
    for row in metrics:
        for tag, key in names.items():
            if row.get(key) is None:
                continue
            got = scalars.pop((tag, row["epoch"]))
            want = struct.unpack("<f", struct.pack("<f", row[key]))[0]
            assert abs(got - want) <= 1e-6 * max(1.0, abs(want)), f"{tag} epoch {row['epoch']}: {got} != {want}"
            checked += 1
    assert not scalars, f"scalars not in the metrics file: {sorted(scalars)}"
    tags = sorted({tag for e in evs for tag in e["values"]})
    assert checked > 0, "no scalar checked"
    print(f"{len(evs)} events, {checked} scalars match the metrics file ({', '.join(tags)}); CRCs verified")


main()
