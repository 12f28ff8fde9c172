# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Build script for the robotrl_ros ament_python package."""

from glob import glob

from setuptools import find_packages, setup

PACKAGE = 'robotrl_ros'

setup(
    name=PACKAGE,
    version='0.1.0',
    packages=find_packages(exclude=['test', 'test.*']),
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + PACKAGE]),
        ('share/' + PACKAGE, ['package.xml']),
        ('share/' + PACKAGE + '/launch', glob('launch/*.launch.py')),
        ('share/' + PACKAGE + '/config', glob('config/*.yaml')),
        ('share/' + PACKAGE + '/config/hparams', glob('config/hparams/*.yaml')),
        ('share/' + PACKAGE + '/config/robots', glob('config/robots/*.yaml')),
    ],
    install_requires=['setuptools'],
    zip_safe=True,
    maintainer='robotrl_ros maintainers',
    maintainer_email='maintainers@robotrl.dev',
    description='Reinforcement learning for ROS 2 robots: train in sim, deploy, fine-tune.',
    license='Apache-2.0',
    extras_require={'test': ['pytest']},
    entry_points={
        'console_scripts': [
            'robotrl = robotrl_ros.cli:main',
            'sim_bridge = robotrl_ros.nodes.sim_bridge:main',
            'policy_node = robotrl_ros.nodes.policy_node:main',
            'trainer_node = robotrl_ros.nodes.trainer_node:main',
        ],
    },
)
