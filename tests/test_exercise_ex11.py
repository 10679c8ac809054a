"""Exercise 11 is fair: typical mistakes cost their own part, with a hint that names them;
loops instead of einsum earn full marks; autograd earns nothing. (The checks every exercise
shares, full marks for the solution and zero for the blank release among them, are in
test_exercise_checks.py.)"""
import pytest
from exercise_runner import grade
from test_grading_helpers import solution_answers

EX11 = "ex11_masked_attention"


def _replace(grade_id, old, new):
    answers = solution_answers(EX11)
    assert old in answers[grade_id], f"{grade_id} no longer contains {old!r}"
    return {**answers, grade_id: answers[grade_id].replace(old, new)}


@pytest.mark.parametrize(("grade_id", "old", "new", "failed", "hint"), [
    # h_j reaches c only through the mean: the score path is missing
    ("bilinear_attention_backward", '''+ np.einsum("bt,bs,sd->btd", g_scores, s, W),''', ",",
     ["test_gradient_H"], "through its score"),
    # the softmax's Jacobian forgotten: dL/de_j = alpha_j dL/dalpha_j
    ("bilinear_attention_backward",
     "weights * (g_weights - np.sum(weights * g_weights, axis=-1, keepdims=True))",
     "weights * g_weights", ["test_gradient_s", "test_gradient_H", "test_gradient_W"],
     "alpha_j (dL/dalpha_j - sum_k alpha_k dL/dalpha_k)"),
    # the outer product the wrong way round (h_j s^T): the public check's W is square
    ("bilinear_attention_backward", '''np.einsum("bt,bs,btd->sd", g_scores, s, H_real)''',
     '''np.einsum("bt,bs,btd->ds", g_scores, s, H_real)''', ["test_gradient_W"], "s h_j^T"),
])
def test_a_mistake_costs_its_part_with_the_right_hint(grade_id, old, new, failed, hint):
    grades = grade(EX11, _replace(grade_id, old, new))
    assert grades.failed == failed, grades.messages
    assert hint in grades.messages[failed[0]], grades.messages
    if len(failed) < 4:
        assert 0 < grades.total < 10


def test_softmax_over_the_padding_costs_the_forward_part():
    grades = grade(EX11, _replace("bilinear_attention", "masked_softmax(scores, mask)",
                                  "masked_softmax(scores, np.ones_like(mask))"))
    assert "test_bilinear_attention" in grades.failed
    assert "exactly 0" in grades.messages["test_bilinear_attention"]


LOOPS = {
    "bilinear_attention": '''def bilinear_attention(s, H, W, mask):
    B, T, D = H.shape
    scores = np.zeros((B, T))
    for b in range(B):
        for j in range(T):
            scores[b, j] = s[b] @ W @ H[b, j] if mask[b, j] else 0.0
    alpha = masked_softmax(scores, mask)
    c = np.zeros((B, D))
    for b in range(B):
        for j in range(T):
            if mask[b, j]:
                c[b] += alpha[b, j] * H[b, j]
    return c, alpha''',
    "bilinear_attention_backward": '''def bilinear_attention_backward(dc, s, H, W, mask):
    c, alpha = bilinear_attention(s, H, W, mask)
    ds, dH, dW = np.zeros_like(s), np.zeros_like(H), np.zeros_like(W)
    for b in range(len(s)):
        real = [j for j in range(H.shape[1]) if mask[b, j]]
        d_alpha = {j: dc[b] @ H[b, j] for j in real}
        mean = sum(alpha[b, j] * d_alpha[j] for j in real)
        for j in real:
            de = alpha[b, j] * (d_alpha[j] - mean)
            ds[b] += de * (W @ H[b, j])
            dH[b, j] = alpha[b, j] * dc[b] + de * (W.T @ s[b])
            dW += de * np.outer(s[b], H[b, j])
    return {"s": ds, "H": dH, "W": dW}''',
}


def test_loops_get_full_marks():
    grades = grade(EX11, {**solution_answers(EX11), **LOOPS})
    assert grades.total == 10, grades.messages


def test_autograd_earns_nothing_for_the_gradients():
    autograd = '''import torch
def bilinear_attention_backward(dc, s, H, W, mask):
    s_t, H_t, W_t = (torch.tensor(x, requires_grad=True) for x in (s, H, W))
    e = torch.einsum("bs,sd,btd->bt", s_t, W_t, H_t).masked_fill(~torch.tensor(mask), -1e30)
    c = (torch.softmax(e, 1)[:, :, None] * H_t).sum(1)
    (c * torch.tensor(dc)).sum().backward()
    return {"s": s_t.grad.numpy(), "H": H_t.grad.numpy() * mask[:, :, None], "W": W_t.grad.numpy()}'''
    grades = grade(EX11, {**solution_answers(EX11), "bilinear_attention_backward": autograd})
    assert grades.failed == ["test_gradient_s", "test_gradient_H", "test_gradient_W"], (
        grades.messages)
    assert grades.total == 4
