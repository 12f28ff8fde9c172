# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""trainer_node and the ROS helpers it relies on."""

from robotrl_ros.ros.conversions import sec_to_stamp, stamp_to_sec


def test_stamps_of_accumulated_sim_time_never_go_backwards():
    # 50 steps of 0.1 s sum to 4.999999999999998: rounding must carry into the seconds
    t, previous = 0.0, -1.0
    for _ in range(2000):
        t += 0.1
        now = stamp_to_sec(sec_to_stamp(t))
        assert now > previous and abs(now - t) < 1e-8
        previous = now
    stamp = sec_to_stamp(4.9999999999999)
    assert (stamp.sec, stamp.nanosec) == (5, 0)
