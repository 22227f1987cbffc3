"""Obviously-correct loop version of the NT-Xent loss."""
import math


def nt_xent_loss(z1, z2, temperature):
    """NT-Xent of (N, D) views, one row and one pair at a time, in Python floats.

    Row k of the 2N stacked rows is scored against every other row j by the
    cosine similarity over ``temperature``; its loss is minus the log of the
    softmax probability of its partner (the other view of the same image).
    Returns the mean over the 2N rows as a float.
    """
    rows = [[float(v) for v in r] for r in list(z1) + list(z2)]
    n = len(z1)

    def cosine(a, b):
        norm_a = max(math.sqrt(sum(v * v for v in a)), 1e-12)
        norm_b = max(math.sqrt(sum(v * v for v in b)), 1e-12)
        return sum(x * y for x, y in zip(a, b)) / (norm_a * norm_b)

    total = 0.0
    for k in range(2 * n):
        partner = (k + n) % (2 * n)
        logits = {j: cosine(rows[k], rows[j]) / temperature for j in range(2 * n) if j != k}
        top = max(logits.values())
        log_sum = top + math.log(sum(math.exp(v - top) for v in logits.values()))
        total += log_sum - logits[partner]
    return total / (2 * n)


def info_nce_loss(query, key, queue, temperature):
    """InfoNCE of (N, D) queries against their (N, D) keys and a (K, D) queue, one query at a time.

    Query n's logits are its cosine similarity to key n (the positive) and to
    every row of ``queue`` (the negatives), each over ``temperature``; its loss
    is minus the log of the softmax probability of the positive. Returns the
    mean over the N queries as a float.
    """
    def unit(row):
        row = [float(v) for v in row]
        norm = max(math.sqrt(sum(v * v for v in row)), 1e-12)
        return [v / norm for v in row]

    negatives = [unit(r) for r in queue]
    total = 0.0
    for q_row, k_row in zip(query, key):
        q = unit(q_row)
        logits = [sum(a * b for a, b in zip(q, unit(k_row))) / temperature]
        logits += [sum(a * b for a, b in zip(q, w)) / temperature for w in negatives]
        top = max(logits)
        total += top + math.log(sum(math.exp(v - top) for v in logits)) - logits[0]
    return total / len(query)
