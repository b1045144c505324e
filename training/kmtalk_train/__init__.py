"""kmtalk_train: the Python side of KMTalk: the training corpus (speech with exact phone
timings, articulatory teacher animation, real capture loaders), and later the PyTorch
reference model, training and export."""
