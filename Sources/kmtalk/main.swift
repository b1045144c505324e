print("kmtalk")
