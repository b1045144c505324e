"""Puts training/ on sys.path so tests import kmtalk_train and kmtalk_ref directly."""
import os
import sys

TRAINING = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if TRAINING not in sys.path:
    sys.path.insert(0, TRAINING)
