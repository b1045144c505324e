"""NumPy reference implementations of the KMTalk engine's front-end, tensor ops and
networks. They define the numbers the Swift engine must reproduce (golden fixtures)."""
