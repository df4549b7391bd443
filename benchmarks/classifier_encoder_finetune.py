"""Fine-tune all-MiniLM-L6-v2 on the corpus batches before a split; write its logits for every later record.

Runs under a Python with torch (Debian: `apt-get install python3-torch libopenblas0-pthread`, then
`/usr/bin/python3`), on the files `benchmarks/classifier_encoder.py prepare` wrote. See that script's docstring.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch  # type: ignore[import-not-found]
import torch.nn.functional as F  # type: ignore[import-not-found]
from torch import nn


class Layer(nn.Module):  # type: ignore[misc]
    """One BERT encoder layer (post-norm, GELU), 384 wide, 12 heads."""

    def __init__(self, width: int = 384, heads: int = 12, inner: int = 1536) -> None:
        super().__init__()
        self.heads = heads
        self.query, self.key, self.value, self.out = (nn.Linear(width, width) for _ in range(4))
        self.norm1, self.norm2 = nn.LayerNorm(width, eps=1e-12), nn.LayerNorm(width, eps=1e-12)
        self.up, self.down = nn.Linear(width, inner), nn.Linear(inner, width)
        self.drop = nn.Dropout(0.1)

    def forward(self, x: Any, bias: Any) -> Any:
        rows, length, width = x.shape
        size = width // self.heads

        def split(t: Any) -> Any:
            return t.view(rows, length, self.heads, size).transpose(1, 2)

        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        attention = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(size) + bias, -1)
        mixed = (self.drop(attention) @ v).transpose(1, 2).reshape(rows, length, width)
        x = self.norm1(x + self.drop(self.out(mixed)))
        return self.norm2(x + self.drop(self.down(F.gelu(self.up(x)))))


class Encoder(nn.Module):  # type: ignore[misc]
    """MiniLM-L6 with mean pooling and a linear head over the categories."""

    def __init__(self, classes: int) -> None:
        super().__init__()
        self.words, self.positions, self.types = nn.Embedding(30522, 384), nn.Embedding(512, 384), nn.Embedding(2, 384)
        self.norm = nn.LayerNorm(384, eps=1e-12)
        self.layers = nn.ModuleList(Layer() for _ in range(6))
        self.drop = nn.Dropout(0.1)
        self.head = nn.Linear(384, classes)

    def forward(self, ids: Any) -> Any:
        mask = (ids > 0).float()
        x = self.norm(self.words(ids) + self.positions.weight[: ids.shape[1]][None] + self.types.weight[0][None, None])
        x = self.drop(x)
        bias = (1 - mask)[:, None, None, :] * -1e9
        for layer in self.layers:
            x = layer(x, bias)
        pooled = (x * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
        return self.head(self.drop(pooled))

    def load(self, path: Path) -> None:
        weights = np.load(path)

        def put(module: Any, name: str) -> None:
            module.weight.data = torch.from_numpy(weights[name + ".weight"])
            if hasattr(module, "bias") and module.bias is not None:
                module.bias.data = torch.from_numpy(weights[name + ".bias"])

        put(self.words, "embeddings.word_embeddings")
        put(self.positions, "embeddings.position_embeddings")
        put(self.types, "embeddings.token_type_embeddings")
        put(self.norm, "embeddings.LayerNorm")
        for i, layer in enumerate(self.layers):
            p = f"encoder.layer.{i}."
            for module, name in ((layer.query, "attention.self.query"), (layer.key, "attention.self.key"),
                                 (layer.value, "attention.self.value"), (layer.out, "attention.output.dense"),
                                 (layer.norm1, "attention.output.LayerNorm"), (layer.up, "intermediate.dense"),
                                 (layer.down, "output.dense"), (layer.norm2, "output.LayerNorm")):
                put(module, p + name)


def batches(rows: Any, ids: Any, size: int, shuffle: bool) -> Iterator[tuple[Any, Any]]:
    """Batches of similar length (little padding), in random order when training."""
    order = rows[np.argsort((ids[rows] > 0).sum(1), kind="stable")]
    chunks = [order[i : i + size] for i in range(0, len(order), size)]
    if shuffle:
        np.random.shuffle(chunks)
    for chunk in chunks:
        yield chunk, torch.from_numpy(ids[chunk, : int((ids[chunk] > 0).sum(1).max())])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/recoup-encoder"))
    parser.add_argument("--split", type=int, default=111)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--lr", type=float, default=5e-5)
    args = parser.parse_args()
    torch.manual_seed(0)
    np.random.seed(0)
    torch.set_num_threads(2)
    data = np.load(args.work / "pieces.npz")
    ids, batch, labels, classes = data["ids"], data["batch"], data["label"], data["classes"]
    train, test = np.where(batch < args.split)[0], np.where(batch >= args.split)[0]
    counts = np.bincount(labels[train], minlength=len(classes)).astype(float)
    balance = torch.tensor(np.where(counts > 0, len(train) / (len(classes) * np.maximum(counts, 1)), 0.0),
                           dtype=torch.float32)  # the same "balanced" class weights as the TF-IDF model
    model = Encoder(len(classes))
    model.load(args.work / "encoder_weights.npz")
    optimiser = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    steps = args.epochs * math.ceil(len(train) / 32)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, s / (0.06 * steps)) * max(0.0, (steps - s) / steps))  # warm-up, linear decay
    started = time.time()
    logits = np.zeros((len(ids), len(classes)), dtype=np.float32)
    for epoch in range(args.epochs):
        model.train()
        for rows, x in batches(train, ids, 32, shuffle=True):
            loss = F.cross_entropy(model(x), torch.from_numpy(labels[rows]), weight=balance)
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            schedule.step()
        model.eval()
        with torch.no_grad():
            for rows, x in batches(test, ids, 64, shuffle=False):
                logits[rows] = model(x).numpy()
        accuracy = float((logits[test].argmax(1) == labels[test]).mean())
        print(f"epoch {epoch + 1}/{args.epochs}: first-seen accuracy {accuracy:.2%} on {len(test)} records "
              f"({time.time() - started:.0f} s)", flush=True)
    np.save(args.work / f"finetuned_logits_{args.split}.npy", logits)


if __name__ == "__main__":
    main()
