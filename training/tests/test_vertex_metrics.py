"""vertex_metrics against a line-by-line transcription of the published evaluation loop
(CodeTalker's cal_metric, which FaceFormer's numbers follow), and on cases whose answer
is known by hand."""

import numpy as np
import pytest

from kmtalk_train import vertex_metrics as vm


def published_loop(sequences, mouth_map, upper_map):
    """The papers' evaluation, written as their script is: per-vertex lists, transposes,
    sums; LVE over the concatenated frames, FDD averaged over sequences."""
    vertices_gt_all, vertices_pred_all, motion_std_difference = [], [], []
    for predicted, captured, template in sequences:
        vertices_gt = captured
        vertices_pred = predicted
        motion_pred = vertices_pred - template[None]
        motion_gt = vertices_gt - template[None]
        vertices_gt_all.extend(list(vertices_gt))
        vertices_pred_all.extend(list(vertices_pred))
        L2_dis_upper = np.array([np.square(motion_gt[:, v, :]) for v in upper_map])
        L2_dis_upper = np.transpose(L2_dis_upper, (1, 0, 2))
        L2_dis_upper = np.sum(L2_dis_upper, axis=2)
        L2_dis_upper = np.std(L2_dis_upper, axis=0)
        gt_motion_std = np.mean(L2_dis_upper)
        L2_dis_upper = np.array([np.square(motion_pred[:, v, :]) for v in upper_map])
        L2_dis_upper = np.transpose(L2_dis_upper, (1, 0, 2))
        L2_dis_upper = np.sum(L2_dis_upper, axis=2)
        L2_dis_upper = np.std(L2_dis_upper, axis=0)
        pred_motion_std = np.mean(L2_dis_upper)
        motion_std_difference.append(gt_motion_std - pred_motion_std)
    vertices_gt_all = np.array(vertices_gt_all)
    vertices_pred_all = np.array(vertices_pred_all)
    L2_dis_mouth_max = np.array([np.square(vertices_gt_all[:, v, :] - vertices_pred_all[:, v, :]) for v in mouth_map])
    L2_dis_mouth_max = np.transpose(L2_dis_mouth_max, (1, 0, 2))
    L2_dis_mouth_max = np.sum(L2_dis_mouth_max, axis=2)
    L2_dis_mouth_max = np.max(L2_dis_mouth_max, axis=1)
    return float(np.mean(L2_dis_mouth_max)), float(sum(motion_std_difference) / len(motion_std_difference))


def test_matches_the_published_evaluation_loop():
    rng = np.random.default_rng(3)
    vertices = 40
    mouth_map = [3, 7, 8, 20, 33]
    upper_map = list(range(25, 40))
    sequences = []
    for frames in (17, 9, 30):
        template = rng.normal(size=(vertices, 3))
        captured = template[None] + 0.01 * rng.normal(size=(frames, vertices, 3))
        predicted = template[None] + 0.008 * rng.normal(size=(frames, vertices, 3))
        sequences.append((predicted, captured, template))
    lve, fdd = published_loop(sequences, mouth_map, upper_map)
    scores = vm.evaluate_sequences(sequences, mouth_map, upper_map)
    assert scores.lve == pytest.approx(lve, rel=1e-12)
    assert scores.fdd == pytest.approx(fdd, rel=1e-12)
    assert scores.frames == 56 and scores.sequences == 3
    # One sequence through the single-sequence functions, flattened [frames, 3V] input too.
    predicted, captured, template = sequences[0]
    one_lve, one_fdd = published_loop([sequences[0]], mouth_map, upper_map)
    assert vm.lip_vertex_error(predicted.reshape(17, -1), captured, mouth_map) == pytest.approx(one_lve, rel=1e-12)
    assert vm.upper_face_dynamics_deviation(predicted, captured, template, upper_map) == pytest.approx(one_fdd, rel=1e-12)


def test_known_answers():
    template = np.zeros((4, 3))
    captured = np.zeros((2, 4, 3))
    predicted = np.zeros((2, 4, 3))
    predicted[0, 1] = [3.0, 4.0, 0.0]  # 5 units off on frame 0, lip vertex 1
    predicted[1, 2] = [0.0, 0.0, 1.0]  # 1 unit off on frame 1, lip vertex 2
    assert vm.lip_vertex_error(predicted, captured, [1, 2]) == pytest.approx((25 + 1) / 2)
    assert vm.lip_vertex_error_distance(predicted, captured, [1, 2]) == pytest.approx((5 + 1) / 2)
    assert vm.mean_vertex_error(predicted, captured) == pytest.approx((5 + 1) / 8)
    # A still upper face predicted for a moving one: FDD is the capture's dynamics.
    moving = np.zeros((3, 4, 3))
    moving[:, 3, 1] = [0.0, 1.0, 2.0]
    assert vm.upper_face_dynamics_deviation(np.zeros((3, 4, 3)), moving, template, [3]) == pytest.approx(np.std([0, 1, 4]))
    assert vm.upper_face_dynamics_deviation(moving, moving, template, [3]) == 0.0


def test_refuses_bad_input():
    good = np.zeros((3, 4, 3))
    with pytest.raises(ValueError, match="differ"):
        vm.lip_vertex_error(good, np.zeros((2, 4, 3)), [0])
    with pytest.raises(ValueError, match="outside"):
        vm.lip_vertex_error(good, good, [4])
    bad = good.copy()
    bad[1, 2, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        vm.mean_vertex_error(bad, good)
    with pytest.raises(ValueError, match="no sequences"):
        vm.evaluate_sequences([], [0])
