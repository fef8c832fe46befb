"""PyTorch half of the checkpoint interop check (see interop_check.sh).

Reads idemnet's safetensors files with a few lines of its own (no `safetensors` package needed),
loads the model into the same torch nn.Sequential with load_state_dict(strict=True), compares
outputs, then writes a changed model and an input/output pair back for idemnet to verify.
"""
import json
import struct
import sys

import torch


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        assert meta["dtype"] == "F32", meta
        b, e = meta["data_offsets"]
        out[name] = torch.frombuffer(bytearray(data[b:e]), dtype=torch.float32).reshape(meta["shape"]).clone()
    return out


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().to(torch.float32)
        b = t.numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def model():
    return torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.LeakyReLU(0.2), torch.nn.Linear(16, 6),
                               torch.nn.LeakyReLU(0.2))


def main(d):
    f = model()
    f.load_state_dict(read_safetensors(f"{d}/idemnet_model.safetensors"), strict=True)
    io = read_safetensors(f"{d}/idemnet_io.safetensors")
    with torch.no_grad():
        diff = (f(io["x"]) - io["y"]).abs().max().item()
    print(f"PyTorch vs idemnet on idemnet's checkpoint: max |diff| = {diff:.3g}")
    ok = diff <= 1e-5
    with torch.no_grad():
        for p in f.parameters():
            p.mul_(-0.5).add_(0.01)
        x = torch.randn(8, 6, generator=torch.Generator().manual_seed(9))
        write_safetensors(f"{d}/torch_model.safetensors", f.state_dict())
        write_safetensors(f"{d}/torch_io.safetensors", {"x": x, "y": f(x)})
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
